from .cli.program import program

program()

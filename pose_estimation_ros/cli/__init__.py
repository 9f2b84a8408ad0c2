"""The command line: run, demo, eval, bench, bag, models; evaluation and benchmark code."""

"""Every setting once (`table`): the node's parameters, the command line's flags and the frame
step's configuration are built from it (`build`, `cli`), as are the parameter files and the
README table (`files`); the launch files' argument logic (`launch`)."""

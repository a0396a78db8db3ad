"""Parts that serve HelloWorldProcess: the Python check, the command line, the parameters, signals and streams.

A folder named after the component would shadow HelloWorldProcess.py on import, hence this name.
"""

"""The service's name, as its log lines, spans, /status and one-line failures give it. A team that copies this
template renames its service here, and in config.yml's context-info (a test compares the two; run.py's first lines
keep a copy, written before anything can be imported).

Plain Python on any Python 3: PythonVersion and run.py use it before the libraries load.
"""

NAME = "hello-world"
DESCRIPTION = "HelloWorld microservice"

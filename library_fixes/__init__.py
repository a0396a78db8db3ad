"""This project's fixes for defects of the pinned libraries, one concern per module.

Importing the package applies the fixes that must be in place before a library is first imported (today one:
token_type). So every module of this project that imports a pip_services3 package imports this one first; ruff's
isort section "library-fixes" (pyproject.toml) keeps that import at the top, and
test/test_library_fixes.py checks that no module forgets it.

- token_type: pip_services3_expressions' TokenType, which Python 3.13+ cannot create and 3.11.2 gets wrong
"""

from library_fixes import token_type

token_type.install()

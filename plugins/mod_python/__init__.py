"""mod_python: Python scripts as FreeSWITCH's mod_python3 runs them.

Under construction (issue 17): registered so that its parts can land one by one; it declares
no interface yet.
"""

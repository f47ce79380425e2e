"""mod_hash: the in-memory ``hash`` API/application and the ``hash`` limit backend.

Under construction (issue 18): registered so that its parts can land one by one; it declares
no interface yet.
"""

"""mod_xml_rpc: the HTTP API (/api, /webapi, /txtapi), Lua web pages, /metrics and /health.

Under construction (issue 15): registered so that its parts can land one by one; it declares
no interface yet.
"""

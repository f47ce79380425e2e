"""mod_sofia_lite: the SIP endpoint (profiles, registrar, gateways, RTP through the media clock).

Under construction (issue 12): this package is registered so that its parts can land one by
one; it declares no interface yet.
"""

"""The embedded backend: the season's stack in moto in this process, the real ASL on moto's engine,
the handlers in-process, a simulated clock, a local API Gateway and a development OIDC issuer.
"""

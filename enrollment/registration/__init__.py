"""Registration (13-29 May): what a parent submits and what gets stored.

The form's models and rules (`form`: R-REG-1..3, R-AGE-1, R-ID-1, R-DATA-1, R-FOREIGN-1), storing
one registration per child (`registrar`: R-REG-2), demand against plan and the seat warnings
(`demand`: R-WARN-1) and recording it when registration closes (`season`), and window extensions
(`windows`: R-REG-1). Imports only `core`.
"""

"""Private admissions and the public lottery (17 Jun): R-LOT-1 .. R-LOT-5, LOTTERY.md.

The draw itself, byte for byte as LOTTERY.md (`draw`), the pools and the archived record (`pools`),
the ceremony with its representatives and families' results and waitlist (`ceremony`), the
workflow's tasks that freeze the pools and wait for each ceremony (`season`), and the
stand-alone ceremony of `enroll lottery` (`standalone`). Imports the phases before it only.
"""

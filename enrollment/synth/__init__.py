"""Synthetic data for trying the system end to end: a city season config and a population.

Everything here is made up and deterministic: no real person's name, ID number or phone number.
`city` builds the Jilin City season config (`seasons/jilin-2023.yaml`); `population` builds the
submissions parents would post and what the agencies would answer about them.
"""

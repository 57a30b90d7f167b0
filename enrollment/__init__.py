"""Compulsory-education enrollment season (义务教育招生入学): the pure domain and its adapters."""

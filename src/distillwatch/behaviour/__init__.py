"""Per-account behaviour: online state and population percentiles."""

"""Human-readable outputs of a scan (the HTML report)."""

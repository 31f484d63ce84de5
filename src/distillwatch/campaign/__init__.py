"""Links between accounts: prompt families, operator groups, campaign records."""

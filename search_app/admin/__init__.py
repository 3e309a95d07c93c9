"""Security administration: users, roles, units and self-exclusion identities (安全管理员)."""

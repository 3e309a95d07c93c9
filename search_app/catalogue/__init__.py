"""The archive catalogue: 全宗, 门类, units, 密级, 保管期限, 档号 patterns and purpose categories,
held in the database and managed by the system admin (issue 13 requirements 1, 2 and 6)."""

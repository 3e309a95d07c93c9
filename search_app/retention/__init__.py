"""Retention and destruction (鉴定销毁): the appraisal list of files whose 保管期限 has ended,
destruction requests approved by two people other than the requester, execution by
crypto-shredding (each file's data key is destroyed, see keystore.py), and the permanent
destruction register (销毁清册)."""

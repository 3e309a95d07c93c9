"""Digitisation QA (数字化质检, DA/T 31-2017): the findings of the ingest checks per page and per
file, the QA reviewer's audited scope, the review queue's actions (re-OCR, correct the text as a
new version, accept, send for re-scan) and the acceptance statistics per batch."""

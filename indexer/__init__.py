"""Ingestion pipeline stages: plain functions over the dataclasses in `indexer.types`.

pages → ocr → pii/redact → normalise → tokenize → index. Each stage is testable without a
broker; `indexer.pipeline.process_file` chains them and a Celery task only loops over files.
"""

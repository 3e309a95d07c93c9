"""Ingestion pipeline stages: plain functions over the dataclasses in `indexer.types`.

pages → ocr → pii/redact → normalise → tokenize → index. Each stage is testable without a
broker; `indexer.pipeline.page_text` and `prepare` chain them for one page, and a Celery task
(`search_app.ingest.pagework.run_page`) only loads its page and calls them.
"""

#!/usr/bin/env python3
"""KServe-style S3 download: list the prefix, then 4 processes each call boto3's download_file.

Usage: s3-boto3-download.py ENDPOINT BUCKET PREFIX DEST
Credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY. Prints RESULT boto3 BYTES SECONDS MiB/s.
"""
import multiprocessing
import os
import sys
import time

import boto3
from botocore.config import Config


def client(endpoint):
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}),
    )


def fetch(job):
    endpoint, bucket, key, path = job
    os.makedirs(os.path.dirname(path), exist_ok=True)
    client(endpoint).download_file(bucket, key, path)
    return os.path.getsize(path)


def main():
    endpoint, bucket, prefix, dest = sys.argv[1:5]
    start = time.monotonic()
    jobs = []
    for page in client(endpoint).get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            key = obj["Key"]
            if key.endswith("/"):
                continue
            jobs.append((endpoint, bucket, key, os.path.join(dest, key[len(prefix):])))
    with multiprocessing.Pool(4) as pool:
        total = sum(pool.map(fetch, jobs))
    seconds = time.monotonic() - start
    print("RESULT boto3 %d %.3f %.1f" % (total, seconds, total / 1048576.0 / seconds))


if __name__ == "__main__":
    main()

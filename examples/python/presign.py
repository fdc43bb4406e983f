"""Presigned URLs: let someone without credentials GET or PUT one object.

    python presign.py my-bucket
"""
import sys
import urllib.request
from datetime import timedelta

import r2

bucket = sys.argv[1] if len(sys.argv) > 1 else "r2-demo"

with r2.Client.from_env() as client:
    # The uploader must send the signed Content-Type.
    put_url = client.presign("PUT", bucket, "shared/report.csv", expires=timedelta(minutes=15),
                             headers={"Content-Type": "text/csv"})
    request = urllib.request.Request(put_url, data=b"a,b\n1,2\n", method="PUT", headers={"Content-Type": "text/csv"})
    urllib.request.urlopen(request).close()

    get_url = client.presign("GET", bucket, "shared/report.csv", expires=3600)
    print(get_url)
    print(urllib.request.urlopen(get_url).read().decode())

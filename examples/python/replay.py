"""Record a session to a cassette, then replay it with no network.

Cassettes are the files the C and Swift tests use too; secrets and signatures
are never written to them. Replay is for tests: no server, same answers.

    python replay.py my-bucket session.json
"""
import os
import sys

import r2

bucket, cassette = sys.argv[1], sys.argv[2]
env = os.environ
config = dict(account_id=env.get("R2_ACCOUNT_ID"), endpoint=env.get("R2_ENDPOINT"),
              allow_http=env.get("R2_ALLOW_HTTP") == "1", ca_bundle=env.get("R2_CA_BUNDLE"),
              access_key_id=env["R2_ACCESS_KEY_ID"], secret_access_key=env["R2_SECRET_ACCESS_KEY"])

with r2.Client(**config, record=cassette) as live:
    live.put(bucket, "examples/replay.txt", "recorded once")
    print("live:    ", live.get(bucket, "examples/replay.txt").body)

# Every response now comes from the cassette: the endpoint is never contacted
# and any credentials do.
with r2.Client(endpoint="http://127.0.0.1:9", allow_http=True, access_key_id="replay",
               secret_access_key="replay", replay=cassette) as replay:
    replay.put(bucket, "examples/replay.txt", "recorded once")
    print("replayed:", replay.get(bucket, "examples/replay.txt").body)
    try:
        replay.get(bucket, "examples/never-recorded")
    except r2.ReplayUnmatched as e:
        print("unmatched:", e.message)

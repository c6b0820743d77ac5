#!/usr/bin/env python3
"""Writes src/audit/botocore-members.txt from botocore's models of Secrets Manager and KMS.

Each line is `sensitive <Member>` (a member the model marks sensitive, on the member or on the
shape it targets) or `input <Member>` (any member of an operation's input, at any depth: what
the audit trail may copy into requestParameters). Run it after upgrading botocore:

    python3 scripts/audit-members.py > src/audit/botocore-members.txt
"""
import gzip
import json
import os

import botocore

MODELS = [
    "secretsmanager/2017-10-17/service-2.json.gz",
    "kms/2014-11-01/service-2.json.gz",
]


def load(relative):
    path = os.path.join(os.path.dirname(botocore.__file__), "data", relative)
    if os.path.exists(path):
        with gzip.open(path, "rt") as f:
            return json.load(f)
    with open(path[: -len(".gz")]) as f:
        return json.load(f)


def main():
    sensitive, inputs = set(), set()
    for relative in MODELS:
        model = load(relative)
        shapes = model["shapes"]
        for shape in shapes.values():
            for name, member in shape.get("members", {}).items():
                target = shapes.get(member.get("shape"), {})
                if member.get("sensitive") or target.get("sensitive"):
                    sensitive.add(name)

        def walk(shape_name, seen):
            if shape_name in seen:
                return
            seen.add(shape_name)
            shape = shapes.get(shape_name, {})
            for name, member in shape.get("members", {}).items():
                inputs.add(name)
                walk(member["shape"], seen)
            for key in ("member", "key", "value"):
                if key in shape:
                    walk(shape[key]["shape"], seen)

        for operation in model["operations"].values():
            if "input" in operation:
                walk(operation["input"]["shape"], set())
    for name in sorted(sensitive):
        print(f"sensitive {name}")
    for name in sorted(inputs):
        print(f"input {name}")


if __name__ == "__main__":
    main()

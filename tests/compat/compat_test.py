#!/usr/bin/env python3
"""Compatibility test: drives Coffer with the unmodified boto3 and aws CLI.

Only the endpoint is changed. Run it against a running server:

    COFFER_ENDPOINT=http://127.0.0.1:PORT python3 tests/compat/compat_test.py

Standard library `unittest` plus boto3; the aws CLI is called with `subprocess`.
Every test uses its own secret names (uuid), so tests are independent of each other
and of whatever else the server holds. The expected values follow real AWS Secrets
Manager behaviour (see the research notes on AWS core behaviour).
"""

import base64
import datetime
import json
import os
import string
import subprocess
import sys
import tempfile
import unittest
import uuid

ENDPOINT_VARIABLE = "COFFER_ENDPOINT"
REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
# The server's root access key, handed over by tests/python_compat.rs.
ACCESS_KEY = os.environ.get("COFFER_ACCESS_KEY_ID", "")
SECRET_KEY = os.environ.get("COFFER_SECRET_ACCESS_KEY", "")
# How far a server-side timestamp may be from this machine's clock.
CLOCK_TOLERANCE = datetime.timedelta(minutes=2)
CLI_TIMEOUT_SECONDS = 120

# Keep any local AWS configuration (profiles, credentials, endpoints, retries) out of the
# way, for boto3 in this process and for the aws CLI subprocesses alike.
for _variable in (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_SECRETS_MANAGER",
    "AWS_CA_BUNDLE",
    "AWS_RETRY_MODE",
):
    os.environ.pop(_variable, None)
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_MAX_ATTEMPTS": "1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_PAGER": "",
    }
)

import boto3  # noqa: E402  (imported after the environment is cleaned)
from botocore.config import Config  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402


def endpoint():
    """The Coffer endpoint under test; fails clearly when it is not configured."""
    value = os.environ.get(ENDPOINT_VARIABLE, "").strip()
    if not value:
        raise RuntimeError(
            f"{ENDPOINT_VARIABLE} is not set: run as "
            f"`{ENDPOINT_VARIABLE}=http://127.0.0.1:PORT python3 {sys.argv[0]}`"
        )
    if not value.startswith(("http://", "https://")):
        raise RuntimeError(f"{ENDPOINT_VARIABLE} must be an http(s) URL, got {value!r}")
    return value


def setUpModule():  # noqa: N802  (unittest's name)
    endpoint()


def unique_name(label):
    """A fresh secret name, valid for Secrets Manager (letters, digits and /_+=.@-)."""
    return f"compat/{label}-{uuid.uuid4().hex}"


def make_client():
    session = boto3.session.Session(
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name=REGION,
    )
    return session.client(
        "secretsmanager",
        endpoint_url=endpoint(),
        config=Config(
            retries={"max_attempts": 1, "mode": "standard"},
            connect_timeout=10,
            read_timeout=60,
        ),
    )


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc)


def arn_prefix(name):
    return f"arn:aws:secretsmanager:{REGION}:{ACCOUNT_ID}:secret:{name}-"


class CofferTestCase(unittest.TestCase):
    """Shared helpers: a boto3 client and assertions on errors, ARNs, dates and versions."""

    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.client = make_client()

    def create(self, label, **kwargs):
        name = unique_name(label)
        response = self.client.create_secret(Name=name, **kwargs)
        self.assertEqual(response["Name"], name)
        self.assert_arn(response["ARN"], name)
        return name, response

    def assert_arn(self, arn, name):
        prefix = arn_prefix(name)
        self.assertTrue(arn.startswith(prefix), f"ARN {arn!r} should start with {prefix!r}")
        suffix = arn[len(prefix):]
        self.assertEqual(len(suffix), 6, f"ARN {arn!r} should end in '-' and 6 random characters")
        self.assertTrue(suffix.isalnum(), f"ARN suffix {suffix!r} should be alphanumeric")

    def assert_client_error(self, code, operation, **kwargs):
        """Calls `operation(**kwargs)`, expects a ClientError with `code`, returns the error."""
        with self.assertRaises(ClientError, msg=f"expected {code}") as caught:
            operation(**kwargs)
        error = caught.exception
        self.assertEqual(
            error.response["Error"]["Code"],
            code,
            f"wrong error code; full error response: {error.response}",
        )
        self.assertEqual(
            error.response["ResponseMetadata"]["HTTPStatusCode"],
            400,
            f"Secrets Manager answers every client error with HTTP 400: {error.response}",
        )
        return error

    def assert_datetime_near(self, value, expected, what):
        self.assertIsInstance(value, datetime.datetime, f"{what} should be a datetime")
        self.assertIsNotNone(value.tzinfo, f"{what} should be timezone-aware")
        self.assertLess(
            abs(value - expected),
            CLOCK_TOLERANCE,
            f"{what} is {value.isoformat()}, expected about {expected.isoformat()}",
        )

    def version_stages(self, secret_id, include_deprecated=False):
        """ListSecretVersionIds as {VersionId: sorted stages}, following NextToken."""
        versions = {}
        kwargs = {"SecretId": secret_id, "IncludeDeprecated": include_deprecated}
        while True:
            response = self.client.list_secret_version_ids(**kwargs)
            for entry in response["Versions"]:
                self.assertNotIn(entry["VersionId"], versions, "a version is listed twice")
                versions[entry["VersionId"]] = sorted(entry.get("VersionStages", []))
            if not response.get("NextToken"):
                return versions
            kwargs["NextToken"] = response["NextToken"]

    def described_stages(self, secret_id):
        """DescribeSecret's VersionIdsToStages with sorted stage lists."""
        response = self.client.describe_secret(SecretId=secret_id)
        return {
            version: sorted(stages)
            for version, stages in response.get("VersionIdsToStages", {}).items()
        }

    def get_value(self, secret_id, **kwargs):
        return self.client.get_secret_value(SecretId=secret_id, **kwargs)


class Boto3SecretLifecycleTest(CofferTestCase):
    """The happy paths of the core operations through boto3."""

    def test_create_string_secret_and_get_it(self):
        name, created = self.create("create", SecretString="hunter2", Description="first")
        version = created["VersionId"]
        self.assertTrue(version, "CreateSecret with a value returns a VersionId")

        value = self.get_value(name)
        self.assertEqual(value["Name"], name)
        self.assertEqual(value["ARN"], created["ARN"])
        self.assertEqual(value["VersionId"], version)
        self.assertEqual(value["SecretString"], "hunter2")
        self.assertNotIn("SecretBinary", value)
        self.assertEqual(value["VersionStages"], ["AWSCURRENT"])
        self.assert_datetime_near(value["CreatedDate"], utc_now(), "GetSecretValue CreatedDate")

        # The full ARN works as SecretId too.
        by_arn = self.get_value(created["ARN"])
        self.assertEqual(by_arn["SecretString"], "hunter2")
        self.assertEqual(by_arn["VersionId"], version)

    def test_create_secret_without_value_has_no_version(self):
        name, created = self.create("empty")
        self.assertNotIn("VersionId", created, "no value, so no version is created")
        error = self.assert_client_error(
            "ResourceNotFoundException", self.client.get_secret_value, SecretId=name
        )
        self.assertIn("AWSCURRENT", error.response["Error"]["Message"])
        self.assertEqual(self.version_stages(name), {})

    def test_update_secret_with_new_value_moves_current_and_previous(self):
        name, created = self.create("update", SecretString="value-1")
        first = created["VersionId"]

        updated = self.client.update_secret(SecretId=name, SecretString="value-2")
        self.assertEqual(updated["Name"], name)
        self.assertEqual(updated["ARN"], created["ARN"])
        second = updated["VersionId"]
        self.assertNotEqual(second, first, "a new value makes a new version")

        current = self.get_value(name)
        self.assertEqual(current["SecretString"], "value-2")
        self.assertEqual(current["VersionId"], second)
        self.assertEqual(current["VersionStages"], ["AWSCURRENT"])

        previous = self.get_value(name, VersionStage="AWSPREVIOUS")
        self.assertEqual(previous["SecretString"], "value-1")
        self.assertEqual(previous["VersionId"], first)
        self.assertEqual(previous["VersionStages"], ["AWSPREVIOUS"])

        by_id = self.get_value(name, VersionId=first)
        self.assertEqual(by_id["SecretString"], "value-1")

        self.assertEqual(
            self.version_stages(name), {first: ["AWSPREVIOUS"], second: ["AWSCURRENT"]}
        )

        # A third value: the first version loses AWSPREVIOUS and becomes deprecated.
        third = self.client.update_secret(SecretId=name, SecretString="value-3")["VersionId"]
        self.assertEqual(
            self.version_stages(name), {second: ["AWSPREVIOUS"], third: ["AWSCURRENT"]}
        )
        self.assertEqual(self.get_value(name)["SecretString"], "value-3")
        self.assertEqual(
            self.get_value(name, VersionStage="AWSPREVIOUS")["SecretString"], "value-2"
        )

    def test_update_secret_description_only_creates_no_version(self):
        name, created = self.create("describe-only", SecretString="same")
        updated = self.client.update_secret(SecretId=name, Description="new description")
        self.assertEqual(updated["Name"], name)
        self.assertNotIn("VersionId", updated, "a description-only update makes no version")
        described = self.client.describe_secret(SecretId=name)
        self.assertEqual(described["Description"], "new description")
        self.assertEqual(self.version_stages(name), {created["VersionId"]: ["AWSCURRENT"]})

    def test_binary_secret_round_trip(self):
        payload = bytes(range(256)) + b"\x00tail\xff"
        name, created = self.create("binary", SecretBinary=payload)
        value = self.get_value(name)
        self.assertEqual(value["SecretBinary"], payload)
        self.assertNotIn("SecretString", value)
        self.assertEqual(value["VersionId"], created["VersionId"])

        new_payload = b"\xde\xad\xbe\xef" * 10
        put = self.client.put_secret_value(SecretId=name, SecretBinary=new_payload)
        self.assertEqual(put["Name"], name)
        self.assertEqual(put["ARN"], created["ARN"])
        self.assertEqual(put["VersionStages"], ["AWSCURRENT"])
        self.assertNotEqual(put["VersionId"], created["VersionId"])

        current = self.get_value(name)
        self.assertEqual(current["SecretBinary"], new_payload)
        self.assertEqual(current["VersionId"], put["VersionId"])
        previous = self.get_value(name, VersionStage="AWSPREVIOUS")
        self.assertEqual(previous["SecretBinary"], payload)

    def test_put_secret_value_binary_over_string_secret(self):
        name, created = self.create("string-then-binary", SecretString="text")
        payload = b"\x00\x01\x02binary\xfe\xff"
        put = self.client.put_secret_value(SecretId=name, SecretBinary=payload)
        value = self.get_value(name)
        self.assertEqual(value["SecretBinary"], payload)
        self.assertNotIn("SecretString", value)
        self.assertEqual(value["VersionId"], put["VersionId"])
        previous = self.get_value(name, VersionId=created["VersionId"])
        self.assertEqual(previous["SecretString"], "text")
        self.assertNotIn("SecretBinary", previous)

    def test_put_secret_value_pending_does_not_move_current(self):
        name, created = self.create("pending", SecretString="current-value")
        first = created["VersionId"]

        put = self.client.put_secret_value(
            SecretId=name, SecretString="pending-value", VersionStages=["AWSPENDING"]
        )
        pending = put["VersionId"]
        self.assertNotEqual(pending, first)
        self.assertEqual(put["VersionStages"], ["AWSPENDING"])

        current = self.get_value(name)
        self.assertEqual(current["SecretString"], "current-value")
        self.assertEqual(current["VersionId"], first)

        pending_value = self.get_value(name, VersionStage="AWSPENDING")
        self.assertEqual(pending_value["SecretString"], "pending-value")
        self.assertEqual(pending_value["VersionId"], pending)
        self.assertEqual(pending_value["VersionStages"], ["AWSPENDING"])

        self.assertEqual(
            self.described_stages(name), {first: ["AWSCURRENT"], pending: ["AWSPENDING"]}
        )
        self.assertEqual(
            self.version_stages(name), {first: ["AWSCURRENT"], pending: ["AWSPENDING"]}
        )
        # Nothing was ever AWSPREVIOUS.
        self.assert_client_error(
            "ResourceNotFoundException",
            self.client.get_secret_value,
            SecretId=name,
            VersionStage="AWSPREVIOUS",
        )

    def test_update_secret_version_stage_moves_current_back(self):
        name, created = self.create("stage", SecretString="old")
        first = created["VersionId"]
        second = self.client.update_secret(SecretId=name, SecretString="new")["VersionId"]
        self.assertEqual(self.get_value(name)["SecretString"], "new")

        moved = self.client.update_secret_version_stage(
            SecretId=name,
            VersionStage="AWSCURRENT",
            MoveToVersionId=first,
            RemoveFromVersionId=second,
        )
        self.assertEqual(moved["Name"], name)
        self.assertEqual(moved["ARN"], created["ARN"])

        current = self.get_value(name)
        self.assertEqual(current["SecretString"], "old")
        self.assertEqual(current["VersionId"], first)
        self.assertEqual(current["VersionStages"], ["AWSCURRENT"])
        # The version that lost AWSCURRENT becomes AWSPREVIOUS.
        previous = self.get_value(name, VersionStage="AWSPREVIOUS")
        self.assertEqual(previous["VersionId"], second)
        self.assertEqual(previous["SecretString"], "new")
        self.assertEqual(
            self.version_stages(name), {first: ["AWSCURRENT"], second: ["AWSPREVIOUS"]}
        )

    def test_update_secret_version_stage_requires_remove_from_for_current(self):
        name, created = self.create("stage-error", SecretString="old")
        first = created["VersionId"]
        second = self.client.update_secret(SecretId=name, SecretString="new")["VersionId"]
        error = self.assert_client_error(
            "InvalidParameterException",
            self.client.update_secret_version_stage,
            SecretId=name,
            VersionStage="AWSCURRENT",
            MoveToVersionId=first,
        )
        self.assertIn(second, error.response["Error"]["Message"])
        self.assertEqual(self.get_value(name)["VersionId"], second, "nothing moved")

    def test_custom_stage_add_and_remove(self):
        name, created = self.create("custom-stage", SecretString="v")
        first = created["VersionId"]
        self.client.update_secret_version_stage(
            SecretId=name, VersionStage="blue", MoveToVersionId=first
        )
        self.assertEqual(self.version_stages(name), {first: ["AWSCURRENT", "blue"]})
        self.assertEqual(self.get_value(name, VersionStage="blue")["VersionId"], first)
        self.client.update_secret_version_stage(
            SecretId=name, VersionStage="blue", RemoveFromVersionId=first
        )
        self.assertEqual(self.version_stages(name), {first: ["AWSCURRENT"]})

    def test_describe_secret(self):
        before = utc_now()
        name, created = self.create("describe", SecretString="x", Description="a description")
        first = created["VersionId"]
        described = self.client.describe_secret(SecretId=name)
        self.assertEqual(described["Name"], name)
        self.assertEqual(described["ARN"], created["ARN"])
        self.assertEqual(described["Description"], "a description")
        self.assertEqual(described["VersionIdsToStages"], {first: ["AWSCURRENT"]})
        self.assert_datetime_near(described["CreatedDate"], before, "CreatedDate")
        self.assert_datetime_near(described["LastChangedDate"], before, "LastChangedDate")
        self.assertNotIn("DeletedDate", described)
        self.assertNotIn("KmsKeyId", described, "omitted for the default aws/secretsmanager key")
        self.assertNotIn("RotationRules", described, "rotation was never configured")

        second = self.client.put_secret_value(SecretId=name, SecretString="y")["VersionId"]
        described = self.client.describe_secret(SecretId=name)
        self.assertEqual(
            {version: sorted(stages) for version, stages in described["VersionIdsToStages"].items()},
            {first: ["AWSPREVIOUS"], second: ["AWSCURRENT"]},
        )
        self.assertIsInstance(described["LastChangedDate"], datetime.datetime)
        self.assertGreaterEqual(described["LastChangedDate"], described["CreatedDate"])

        # Also by full ARN.
        self.assertEqual(self.client.describe_secret(SecretId=created["ARN"])["Name"], name)

    def test_list_secret_version_ids_include_deprecated(self):
        name, created = self.create("deprecated", SecretString="v1")
        first = created["VersionId"]
        second = self.client.update_secret(SecretId=name, SecretString="v2")["VersionId"]
        third = self.client.put_secret_value(SecretId=name, SecretString="v3")["VersionId"]

        listed = self.client.list_secret_version_ids(SecretId=name)
        self.assertEqual(listed["Name"], name)
        self.assertEqual(listed["ARN"], created["ARN"])
        for entry in listed["Versions"]:
            self.assert_datetime_near(entry["CreatedDate"], utc_now(), "version CreatedDate")
            self.assertEqual(entry["KmsKeyIds"], ["DefaultEncryptionKey"])
        self.assertEqual(
            self.version_stages(name), {second: ["AWSPREVIOUS"], third: ["AWSCURRENT"]},
            "deprecated versions are hidden by default",
        )

        everything = self.client.list_secret_version_ids(SecretId=name, IncludeDeprecated=True)
        by_id = {entry["VersionId"]: entry for entry in everything["Versions"]}
        self.assertEqual(set(by_id), {first, second, third})
        self.assertNotIn(
            "VersionStages", by_id[first], "a deprecated version has no VersionStages key"
        )
        self.assertEqual(by_id[second]["VersionStages"], ["AWSPREVIOUS"])
        self.assertEqual(by_id[third]["VersionStages"], ["AWSCURRENT"])

        # The deprecated version is still readable by id, and DescribeSecret leaves it out.
        self.assertEqual(self.get_value(name, VersionId=first)["SecretString"], "v1")
        self.assertEqual(set(self.described_stages(name)), {second, third})

    def test_delete_with_recovery_window_then_restore(self):
        name, created = self.create("delete", SecretString="keep-me")
        deleted = self.client.delete_secret(SecretId=name, RecoveryWindowInDays=7)
        self.assertEqual(deleted["Name"], name)
        self.assertEqual(deleted["ARN"], created["ARN"])
        self.assert_datetime_near(
            deleted["DeletionDate"], utc_now() + datetime.timedelta(days=7), "DeletionDate"
        )

        error = self.assert_client_error(
            "InvalidRequestException", self.client.get_secret_value, SecretId=name
        )
        self.assertIn("marked for deletion", error.response["Error"]["Message"])
        self.assert_client_error(
            "InvalidRequestException",
            self.client.put_secret_value,
            SecretId=name,
            SecretString="nope",
        )
        self.assert_client_error(
            "InvalidRequestException",
            self.client.create_secret,
            Name=name,
            SecretString="same name while scheduled for deletion",
        )

        described = self.client.describe_secret(SecretId=name)
        self.assertEqual(described["Name"], name)
        self.assertIn("DeletedDate", described)
        self.assertIsInstance(described["DeletedDate"], datetime.datetime)
        self.assertEqual(
            described["VersionIdsToStages"], {created["VersionId"]: ["AWSCURRENT"]}
        )

        restored = self.client.restore_secret(SecretId=name)
        self.assertEqual(restored["Name"], name)
        self.assertEqual(restored["ARN"], created["ARN"])
        self.assertNotIn("DeletedDate", self.client.describe_secret(SecretId=name))
        value = self.get_value(name)
        self.assertEqual(value["SecretString"], "keep-me")
        self.assertEqual(value["VersionId"], created["VersionId"])

    def test_delete_default_recovery_window_is_30_days(self):
        name, _ = self.create("delete-default", SecretString="x")
        deleted = self.client.delete_secret(SecretId=name)
        self.assert_datetime_near(
            deleted["DeletionDate"], utc_now() + datetime.timedelta(days=30), "DeletionDate"
        )

    def test_force_delete_without_recovery(self):
        name, created = self.create("force-delete", SecretString="gone")
        deleted = self.client.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
        self.assertEqual(deleted["Name"], name)
        self.assertEqual(deleted["ARN"], created["ARN"])
        self.assert_datetime_near(deleted["DeletionDate"], utc_now(), "DeletionDate")

        self.assert_client_error(
            "ResourceNotFoundException", self.client.get_secret_value, SecretId=name
        )
        self.assert_client_error(
            "ResourceNotFoundException", self.client.describe_secret, SecretId=name
        )
        self.assert_client_error(
            "ResourceNotFoundException", self.client.restore_secret, SecretId=name
        )

        # The name can be used again, and the new secret gets a new ARN.
        recreated = self.client.create_secret(Name=name, SecretString="again")
        self.assert_arn(recreated["ARN"], name)
        self.assertNotEqual(recreated["ARN"], created["ARN"])

    def test_force_delete_of_missing_secret_succeeds(self):
        name = unique_name("force-missing")
        deleted = self.client.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
        self.assertEqual(deleted["Name"], name)
        self.assertTrue(deleted["ARN"])
        self.assertIsInstance(deleted["DeletionDate"], datetime.datetime)

    def test_put_secret_value_idempotent_client_request_token(self):
        name, created = self.create("idempotent", SecretString="v1")
        token = str(uuid.uuid4())

        first_put = self.client.put_secret_value(
            SecretId=name, SecretString="v2", ClientRequestToken=token
        )
        self.assertEqual(first_put["VersionId"], token)
        self.assertEqual(first_put["VersionStages"], ["AWSCURRENT"])

        again = self.client.put_secret_value(
            SecretId=name, SecretString="v2", ClientRequestToken=token
        )
        self.assertEqual(again["VersionId"], token, "same token and value: same version")
        self.assertEqual(again["Name"], name)
        self.assertEqual(again["ARN"], created["ARN"])
        self.assertEqual(
            self.version_stages(name, include_deprecated=True),
            {created["VersionId"]: ["AWSPREVIOUS"], token: ["AWSCURRENT"]},
            "the repeated request must not create a version or move labels",
        )

        error = self.assert_client_error(
            "ResourceExistsException",
            self.client.put_secret_value,
            SecretId=name,
            SecretString="a different value",
            ClientRequestToken=token,
        )
        self.assertIn(token, error.response["Error"]["Message"])
        self.assertEqual(self.get_value(name)["SecretString"], "v2")
        self.assertEqual(len(self.version_stages(name, include_deprecated=True)), 2)

    def test_create_secret_idempotent_client_request_token(self):
        name = unique_name("create-idempotent")
        token = str(uuid.uuid4())
        first = self.client.create_secret(Name=name, SecretString="v", ClientRequestToken=token)
        self.assertEqual(first["VersionId"], token)
        again = self.client.create_secret(Name=name, SecretString="v", ClientRequestToken=token)
        self.assertEqual(again["ARN"], first["ARN"])
        self.assertEqual(again["VersionId"], token)
        self.assert_client_error(
            "ResourceExistsException",
            self.client.create_secret,
            Name=name,
            SecretString="other",
            ClientRequestToken=token,
        )


class Boto3ErrorTest(CofferTestCase):
    """Error codes as AWS returns them (all HTTP 400)."""

    def test_missing_secret_is_resource_not_found(self):
        missing = unique_name("missing")
        for operation, kwargs in (
            (self.client.get_secret_value, {}),
            (self.client.describe_secret, {}),
            (self.client.list_secret_version_ids, {}),
            (self.client.put_secret_value, {"SecretString": "x"}),
            (self.client.update_secret, {"SecretString": "x"}),
            (self.client.delete_secret, {}),
            (self.client.restore_secret, {}),
        ):
            with self.subTest(operation=operation.__name__):
                error = self.assert_client_error(
                    "ResourceNotFoundException", operation, SecretId=missing, **kwargs
                )
                self.assertEqual(
                    error.response["Error"]["Message"],
                    "Secrets Manager can't find the specified secret.",
                )

    def test_missing_version_is_resource_not_found(self):
        name, _ = self.create("missing-version", SecretString="x")
        self.assert_client_error(
            "ResourceNotFoundException",
            self.client.get_secret_value,
            SecretId=name,
            VersionId=str(uuid.uuid4()),
        )
        self.assert_client_error(
            "ResourceNotFoundException",
            self.client.get_secret_value,
            SecretId=name,
            VersionStage="AWSPENDING",
        )

    def test_duplicate_name_is_resource_exists(self):
        name, _ = self.create("duplicate", SecretString="x")
        error = self.assert_client_error(
            "ResourceExistsException", self.client.create_secret, Name=name, SecretString="y"
        )
        self.assertIn(name, error.response["Error"]["Message"])
        self.assertEqual(self.get_value(name)["SecretString"], "x", "the original is untouched")

    def test_string_and_binary_together_is_invalid_parameter(self):
        name = unique_name("both")
        self.assert_client_error(
            "InvalidParameterException",
            self.client.create_secret,
            Name=name,
            SecretString="text",
            SecretBinary=b"bytes",
        )
        self.assert_client_error(
            "ResourceNotFoundException", self.client.describe_secret, SecretId=name
        )

        existing, _ = self.create("both-put", SecretString="x")
        self.assert_client_error(
            "InvalidParameterException",
            self.client.put_secret_value,
            SecretId=existing,
            SecretString="text",
            SecretBinary=b"bytes",
        )

    def test_invalid_name_is_validation_exception(self):
        bad = f"bad name!*{uuid.uuid4().hex}"
        self.assert_client_error(
            "ValidationException", self.client.create_secret, Name=bad, SecretString="x"
        )
        self.assert_client_error(
            "ValidationException", self.client.get_secret_value, SecretId=bad
        )

    def test_recovery_window_out_of_range_is_invalid_parameter(self):
        name, _ = self.create("window", SecretString="x")
        for days in (3, 31):
            with self.subTest(days=days):
                self.assert_client_error(
                    "InvalidParameterException",
                    self.client.delete_secret,
                    SecretId=name,
                    RecoveryWindowInDays=days,
                )
        described = self.client.describe_secret(SecretId=name)
        self.assertNotIn("DeletedDate", described, "the secret must not be deleted")
        self.assertEqual(self.get_value(name)["SecretString"], "x")

    def test_recovery_window_with_force_delete_is_invalid_parameter(self):
        name, _ = self.create("window-force", SecretString="x")
        self.assert_client_error(
            "InvalidParameterException",
            self.client.delete_secret,
            SecretId=name,
            RecoveryWindowInDays=7,
            ForceDeleteWithoutRecovery=True,
        )
        self.assertEqual(self.get_value(name)["SecretString"], "x")

    def test_put_secret_value_without_value_is_invalid_request(self):
        name, _ = self.create("no-value", SecretString="x")
        self.assert_client_error(
            "InvalidRequestException", self.client.put_secret_value, SecretId=name
        )


class Boto3SurfaceTest(CofferTestCase):
    """Tags, GetRandomPassword and resource policies through boto3."""

    ACCOUNT_POLICY = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"},
                "Action": "secretsmanager:GetSecretValue",
                "Resource": "*",
            }
        ],
    }
    PUBLIC_POLICY = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "secretsmanager:GetSecretValue",
                "Resource": "*",
            }
        ],
    }

    def test_get_random_password_with_options(self):
        response = self.client.get_random_password(
            PasswordLength=40,
            ExcludeCharacters="abcXYZ789",
            ExcludePunctuation=True,
            IncludeSpace=False,
            RequireEachIncludedType=True,
        )
        self.assertEqual(set(response), {"RandomPassword", "ResponseMetadata"})
        password = response["RandomPassword"]
        self.assertEqual(len(password), 40, password)
        self.assertFalse(set(password) & set("abcXYZ789"), password)
        self.assertFalse(set(password) & set(string.punctuation + " "), password)
        for kind in (string.ascii_uppercase, string.ascii_lowercase, string.digits):
            self.assertTrue(set(password) & set(kind), f"{password} lacks one of {kind}")

        default = self.client.get_random_password()["RandomPassword"]
        self.assertEqual(len(default), 32)
        self.assertTrue(set(default) & set(string.punctuation), default)

        only_digits = self.client.get_random_password(
            PasswordLength=12,
            ExcludeUppercase=True,
            ExcludeLowercase=True,
            ExcludePunctuation=True,
        )["RandomPassword"]
        self.assertRegex(only_digits, r"^[0-9]{12}$")

        error = self.assert_client_error(
            "InvalidParameterException",
            self.client.get_random_password,
            PasswordLength=3,
        )
        self.assertEqual(
            error.response["Error"]["Message"],
            "Password length is too short based on the required types.",
        )
        # botocore checks only the minimum itself; the maximum is the server's to refuse.
        self.assert_client_error(
            "ValidationException", self.client.get_random_password, PasswordLength=4097
        )

    def test_tag_and_untag_resource(self):
        name, created = self.create(
            "tags", SecretString="x", Tags=[{"Key": "team", "Value": "db"}]
        )
        response = self.client.tag_resource(
            SecretId=created["ARN"],
            Tags=[{"Key": "env", "Value": "prod"}, {"Key": "team", "Value": "web"}],
        )
        self.assertEqual(set(response), {"ResponseMetadata"}, "TagResource returns no members")
        self.assertEqual(
            self.client.describe_secret(SecretId=name)["Tags"],
            [{"Key": "team", "Value": "web"}, {"Key": "env", "Value": "prod"}],
        )

        error = self.assert_client_error(
            "InvalidParameterException",
            self.client.tag_resource,
            SecretId=name,
            Tags=[{"Key": "aws:owner", "Value": "me"}],
        )
        self.assertEqual(
            error.response["Error"]["Message"],
            "You can't modify system tags. Tag key: 'aws:owner'.",
        )

        response = self.client.untag_resource(SecretId=name, TagKeys=["team", "absent"])
        self.assertEqual(set(response), {"ResponseMetadata"}, "UntagResource returns no members")
        self.assertEqual(
            self.client.describe_secret(SecretId=name)["Tags"], [{"Key": "env", "Value": "prod"}]
        )
        self.client.untag_resource(SecretId=name, TagKeys=["env"])
        self.assertEqual(self.client.describe_secret(SecretId=name)["Tags"], [])

        self.assert_client_error(
            "ResourceNotFoundException",
            self.client.tag_resource,
            SecretId=unique_name("tags-missing"),
            Tags=[{"Key": "k", "Value": "v"}],
        )

    def test_put_get_and_delete_resource_policy(self):
        name, created = self.create("policy", SecretString="x")
        initial = self.client.get_resource_policy(SecretId=name)
        self.assertEqual(initial["Name"], name)
        self.assertEqual(initial["ARN"], created["ARN"])
        self.assertNotIn("ResourcePolicy", initial)

        put = self.client.put_resource_policy(
            SecretId=name,
            ResourcePolicy=json.dumps(self.ACCOUNT_POLICY, indent=2),
            BlockPublicPolicy=True,
        )
        self.assertEqual((put["ARN"], put["Name"]), (created["ARN"], name))
        got = self.client.get_resource_policy(SecretId=created["ARN"])
        self.assertEqual((got["ARN"], got["Name"]), (created["ARN"], name))
        self.assertEqual(json.loads(got["ResourcePolicy"]), self.ACCOUNT_POLICY)

        self.assert_client_error(
            "PublicPolicyException",
            self.client.put_resource_policy,
            SecretId=name,
            ResourcePolicy=json.dumps(self.PUBLIC_POLICY),
            BlockPublicPolicy=True,
        )
        error = self.assert_client_error(
            "MalformedPolicyDocumentException",
            self.client.put_resource_policy,
            SecretId=name,
            ResourcePolicy='{"Version": "2012-10-17"}',
        )
        self.assertTrue(
            error.response["Error"]["Message"].startswith("This policy has invalid syntax."),
            error.response["Error"]["Message"],
        )
        self.assertEqual(
            json.loads(self.client.get_resource_policy(SecretId=name)["ResourcePolicy"]),
            self.ACCOUNT_POLICY,
            "refused policies leave the stored one alone",
        )

        deleted = self.client.delete_resource_policy(SecretId=name)
        self.assertEqual((deleted["ARN"], deleted["Name"]), (created["ARN"], name))
        self.assertNotIn("ResourcePolicy", self.client.get_resource_policy(SecretId=name))

    def test_validate_resource_policy(self):
        name, _ = self.create("validate", SecretString="x")
        valid = self.client.validate_resource_policy(
            SecretId=name, ResourcePolicy=json.dumps(self.ACCOUNT_POLICY)
        )
        self.assertIs(valid["PolicyValidationPassed"], True)
        self.assertEqual(valid["ValidationErrors"], [])

        public = self.client.validate_resource_policy(
            ResourcePolicy=json.dumps(self.PUBLIC_POLICY)
        )
        self.assertIs(public["PolicyValidationPassed"], False)
        self.assertEqual(
            [entry["CheckName"] for entry in public["ValidationErrors"]], ["BROAD_ACCESS_CHECK"]
        )
        malformed = self.client.validate_resource_policy(ResourcePolicy="not a policy")
        self.assertIs(malformed["PolicyValidationPassed"], False)
        self.assertEqual(
            [entry["CheckName"] for entry in malformed["ValidationErrors"]], ["SYNTAX_CHECK"]
        )


class Boto3ListingTest(CofferTestCase):
    """ListSecrets and BatchGetSecretValue through boto3. The server is shared with the other
    tests, so every listing is narrowed to this test's own name prefix."""

    def unique_prefix(self, label):
        return f"compat/{label}-{uuid.uuid4().hex}/"

    def create_named(self, name, **kwargs):
        response = self.client.create_secret(Name=name, **kwargs)
        self.assertEqual(response["Name"], name)
        return response

    def listed_names(self, **kwargs):
        """Names through boto3's ListSecrets paginator; asserts none is listed twice."""
        names = []
        for page in self.client.get_paginator("list_secrets").paginate(**kwargs):
            names.extend(entry["Name"] for entry in page["SecretList"])
        self.assertEqual(len(names), len(set(names)), f"a secret is listed twice: {names}")
        return names

    def test_list_secrets_filters(self):
        prefix = self.unique_prefix("list-filters")
        alpha, beta, gamma = (prefix + suffix for suffix in ("alpha", "beta", "gamma"))
        created = self.create_named(
            alpha,
            SecretString="a",
            Description="Primary database credentials",
            Tags=[{"Key": "env", "Value": "prod"}],
        )
        self.create_named(
            beta,
            SecretString="b",
            Description="Backup token",
            Tags=[{"Key": "env", "Value": "dev"}],
        )
        self.create_named(
            gamma,
            SecretString="c",
            Description="Reporting database replica",
            Tags=[{"Key": "team", "Value": "QuarterlyReports"}],
        )
        mine = {"Key": "name", "Values": [prefix]}

        def names(*filters):
            return self.listed_names(Filters=[mine, *filters])

        # name: case-sensitive prefix of the whole name; values OR-ed.
        self.assertEqual(names(), [alpha, beta, gamma], "creation order")
        def by_name(*values):
            return self.listed_names(Filters=[{"Key": "name", "Values": list(values)}])

        self.assertEqual(by_name(prefix + "a"), [alpha])
        self.assertEqual(by_name(gamma, alpha), [alpha, gamma])
        self.assertEqual(by_name(prefix.upper()), [])
        # tag-key / tag-value: case-sensitive prefixes.
        self.assertEqual(names({"Key": "tag-key", "Values": ["env"]}), [alpha, beta])
        self.assertEqual(names({"Key": "tag-key", "Values": ["Env"]}), [])
        self.assertEqual(names({"Key": "tag-value", "Values": ["pro"]}), [alpha])
        # description: word prefixes, not case-sensitive; every word of the value must match.
        self.assertEqual(names({"Key": "description", "Values": ["DATA"]}), [alpha, gamma])
        self.assertEqual(names({"Key": "description", "Values": ["data cred"]}), [alpha])
        self.assertEqual(names({"Key": "description", "Values": ["base"]}), [])
        # Negation.
        self.assertEqual(names({"Key": "description", "Values": ["!data"]}), [beta])
        self.assertEqual(names({"Key": "name", "Values": ["!" + alpha]}), [beta, gamma])
        # Filters AND-ed, the same key twice included.
        self.assertEqual(
            names(
                {"Key": "description", "Values": ["database"]},
                {"Key": "description", "Values": ["replica"]},
            ),
            [gamma],
        )
        # all: words of name, description, tag keys and tag values.
        self.assertEqual(names({"Key": "all", "Values": ["reports"]}), [gamma])
        self.assertEqual(names({"Key": "all", "Values": ["backup"]}), [beta])

        listing = self.client.list_secrets(Filters=[{"Key": "name", "Values": [alpha]}])
        entry = listing["SecretList"][0]
        self.assertEqual(entry["ARN"], created["ARN"])
        self.assertEqual(entry["Description"], "Primary database credentials")
        self.assertEqual(entry["Tags"], [{"Key": "env", "Value": "prod"}])
        self.assertEqual(entry["SecretVersionsToStages"], {created["VersionId"]: ["AWSCURRENT"]})
        self.assertNotIn("KmsKeyId", entry)
        self.assertNotIn("DeletedDate", entry)
        self.assert_datetime_near(entry["CreatedDate"], utc_now(), "CreatedDate")

    def test_list_secrets_pagination_order_and_planned_deletion(self):
        prefix = self.unique_prefix("list-pages")
        # Created out of name order.
        order = ["p3", "p0", "p6", "p1", "p5", "p2", "p4"]
        for suffix in order:
            self.create_named(prefix + suffix, SecretString="v")
        created_order = [prefix + suffix for suffix in order]
        mine = [{"Key": "name", "Values": [prefix]}]

        pages = list(
            self.client.get_paginator("list_secrets").paginate(
                Filters=mine, PaginationConfig={"PageSize": 3}
            )
        )
        walked = [entry["Name"] for page in pages for entry in page["SecretList"]]
        self.assertEqual(walked, created_order)
        self.assertGreaterEqual(len(pages), 3, "pages of at most 3")
        for page in pages:
            self.assertLessEqual(len(page["SecretList"]), 3)
        self.assertNotIn("NextToken", pages[-1])

        # MaxItems stops mid-page; botocore's resume token carries the server's token.
        first = self.client.get_paginator("list_secrets").paginate(
            Filters=mine, PaginationConfig={"PageSize": 3, "MaxItems": 4}
        ).build_full_result()
        self.assertEqual([e["Name"] for e in first["SecretList"]], created_order[:4])
        rest = self.client.get_paginator("list_secrets").paginate(
            Filters=mine, PaginationConfig={"PageSize": 3, "StartingToken": first["NextToken"]}
        ).build_full_result()
        self.assertEqual([e["Name"] for e in rest["SecretList"]], created_order[4:])

        self.assertEqual(self.listed_names(Filters=mine, SortOrder="desc"), created_order[::-1])
        self.assertEqual(self.listed_names(Filters=mine, SortOrder="asc"), created_order)
        self.assertEqual(
            self.listed_names(Filters=mine, SortBy="name", SortOrder="asc"), sorted(created_order)
        )
        self.assertEqual(
            self.listed_names(Filters=mine, SortBy="name", SortOrder="desc"),
            sorted(created_order, reverse=True),
        )

        # A secret pending deletion shows only with IncludePlannedDeletion.
        pending = prefix + "p6"
        self.client.delete_secret(SecretId=pending, RecoveryWindowInDays=7)
        self.assertNotIn(pending, self.listed_names(Filters=mine))
        with_pending = self.client.list_secrets(
            Filters=[{"Key": "name", "Values": [pending]}], IncludePlannedDeletion=True
        )["SecretList"]
        self.assertEqual([e["Name"] for e in with_pending], [pending])
        self.assert_datetime_near(with_pending[0]["DeletedDate"], utc_now(), "DeletedDate")

    def test_list_secrets_errors(self):
        error = self.assert_client_error(
            "ValidationException", self.client.list_secrets, MaxResults=101
        )
        self.assertIn("maxResults", error.response["Error"]["Message"])
        self.assert_client_error(
            "InvalidNextTokenException", self.client.list_secrets, NextToken="bogus"
        )
        # A real token, altered, and a real token for another query.
        prefix = self.unique_prefix("list-tokens")
        for suffix in ("a", "b"):
            self.create_named(prefix + suffix, SecretString="v")
        mine = [{"Key": "name", "Values": [prefix]}]
        token = self.client.list_secrets(Filters=mine, MaxResults=1)["NextToken"]
        altered = token[:-1] + ("A" if token[-1] != "A" else "B")
        self.assert_client_error(
            "InvalidNextTokenException", self.client.list_secrets, Filters=mine, NextToken=altered
        )
        self.assert_client_error(
            "InvalidNextTokenException",
            self.client.list_secrets,
            Filters=mine,
            SortOrder="desc",
            NextToken=token,
        )
        second = self.client.list_secrets(Filters=mine, NextToken=token)
        self.assertEqual([e["Name"] for e in second["SecretList"]], [prefix + "b"])
        self.assert_client_error(
            "ValidationException",
            self.client.list_secrets,
            Filters=[{"Key": "name", "Values": ["a#b"]}],
        )
        self.assert_client_error(
            "ValidationException",
            self.client.list_secrets,
            Filters=[{"Key": "bogus", "Values": ["a"]}],
        )
        error = self.assert_client_error(
            "InvalidParameterException", self.client.list_secrets, Filters=[{"Key": "name"}]
        )
        self.assertEqual(error.response["Error"]["Message"], "Invalid filter values for key: name")

    def test_batch_get_secret_value_by_id_list(self):
        prefix = self.unique_prefix("batch-ids")
        text = self.create_named(prefix + "text", SecretString="hunter2")
        payload = bytes(range(256))
        binary = self.create_named(prefix + "binary", SecretBinary=payload)
        missing = prefix + "missing"

        answer = self.client.batch_get_secret_value(
            SecretIdList=[binary["Name"], missing, text["ARN"]]
        )
        values = answer["SecretValues"]
        self.assertEqual([v["Name"] for v in values], [binary["Name"], text["Name"]])
        self.assertEqual(values[0]["SecretBinary"], payload)
        self.assertNotIn("SecretString", values[0])
        self.assertEqual(values[1]["SecretString"], "hunter2")
        self.assertEqual(values[1]["ARN"], text["ARN"])
        self.assertEqual(values[1]["VersionId"], text["VersionId"])
        self.assertEqual(values[1]["VersionStages"], ["AWSCURRENT"])
        self.assert_datetime_near(values[1]["CreatedDate"], utc_now(), "CreatedDate")
        self.assertEqual(
            answer["Errors"],
            [
                {
                    "SecretId": missing,
                    "ErrorCode": "ResourceNotFoundException",
                    "Message": "Secrets Manager can't find the specified secret.",
                }
            ],
        )
        self.assertNotIn("NextToken", answer)
        # The read is recorded.
        self.assertIn("LastAccessedDate", self.client.describe_secret(SecretId=text["ARN"]))

    def test_batch_get_secret_value_by_filters(self):
        prefix = self.unique_prefix("batch-filters")
        names = [prefix + f"s{i}" for i in range(5)]
        for index, name in enumerate(names):
            self.create_named(name, SecretString=f"value-{index}")
        self.create_named(prefix + "pending", SecretString="x")
        self.client.delete_secret(SecretId=prefix + "pending", RecoveryWindowInDays=7)
        mine = [{"Key": "name", "Values": [prefix]}]

        got = []
        kwargs = {"Filters": mine, "MaxResults": 2}
        pages = 0
        while True:
            page = self.client.batch_get_secret_value(**kwargs)
            pages += 1
            self.assertLessEqual(len(page["SecretValues"]), 2)
            self.assertEqual(page["Errors"], [])
            got.extend((v["Name"], v["SecretString"]) for v in page["SecretValues"])
            if not page.get("NextToken"):
                break
            kwargs["NextToken"] = page["NextToken"]
        self.assertEqual(got, [(name, f"value-{i}") for i, name in enumerate(names)])
        self.assertGreaterEqual(pages, 3)

    def test_batch_get_secret_value_errors(self):
        name, _ = self.create("batch-errors", SecretString="x")
        mine = [{"Key": "name", "Values": [name]}]
        self.assert_client_error(
            "InvalidParameterException",
            self.client.batch_get_secret_value,
            SecretIdList=[name],
            Filters=mine,
        )
        self.assert_client_error("InvalidParameterException", self.client.batch_get_secret_value)
        self.assert_client_error(
            "InvalidParameterException",
            self.client.batch_get_secret_value,
            SecretIdList=[name],
            MaxResults=5,
        )
        error = self.assert_client_error(
            "InvalidParameterException",
            self.client.batch_get_secret_value,
            Filters=[
                {"Key": "name", "Values": [f"v{i}" for i in range(10)]},
                {"Key": "tag-key", "Values": ["k"]},
            ],
        )
        self.assertEqual(
            error.response["Error"]["Message"],
            "The filter list has too many filters. You can include up to 10 filters.",
        )


def run_aws(service, *arguments):
    """Runs the unmodified aws CLI against Coffer for `service` (JSON output); never raises on
    a failing command, so callers can check its exit code and stderr."""
    command = ["aws", "--endpoint-url", endpoint(), "--region", REGION, "--output", "json", service, *arguments]
    return subprocess.run(
        command,
        env=dict(os.environ),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_SECONDS,
        check=False,
    )


class AwsCliTest(unittest.TestCase):
    """The same API through the unmodified aws CLI, run as a subprocess."""

    maxDiff = None

    def run_cli(self, *arguments):
        return run_aws("secretsmanager", *arguments)

    def cli(self, *arguments):
        """Runs the CLI, asserts success and returns the parsed JSON output ({} if none)."""
        result = self.run_cli(*arguments)
        self.assertEqual(
            result.returncode,
            0,
            f"aws secretsmanager {' '.join(arguments)} failed "
            f"(exit {result.returncode}):\nstdout: {result.stdout}\nstderr: {result.stderr}",
        )
        if not result.stdout.strip():
            return {}
        try:
            return json.loads(result.stdout)
        except json.JSONDecodeError as error:
            self.fail(f"the CLI printed something that is not JSON ({error}): {result.stdout!r}")

    def cli_error(self, code, *arguments):
        """Runs the CLI, asserts it fails with `code` in stderr, returns stderr."""
        result = self.run_cli(*arguments)
        self.assertNotEqual(
            result.returncode,
            0,
            f"aws secretsmanager {' '.join(arguments)} should have failed; stdout: {result.stdout}",
        )
        self.assertIn(
            f"({code})",
            result.stderr,
            f"expected {code} in stderr (exit {result.returncode}): {result.stderr}",
        )
        return result.stderr

    def cli_timestamp(self, value):
        """The CLI prints timestamps as received (epoch seconds) or as ISO 8601 text."""
        if isinstance(value, (int, float)):
            return datetime.datetime.fromtimestamp(value, datetime.timezone.utc)
        self.assertIsInstance(value, str, f"unexpected timestamp {value!r}")
        parsed = datetime.datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=datetime.timezone.utc)
        return parsed

    def stages_of(self, listing):
        return {
            entry["VersionId"]: sorted(entry.get("VersionStages", []))
            for entry in listing["Versions"]
        }

    def test_cli_secret_lifecycle(self):
        name = unique_name("cli")
        created = self.cli("create-secret", "--name", name, "--secret-string", "cli-one")
        self.assertEqual(created["Name"], name)
        self.assertTrue(created["ARN"].startswith(arn_prefix(name)), created["ARN"])
        first = created["VersionId"]

        updated = self.cli("update-secret", "--secret-id", name, "--secret-string", "cli-two")
        self.assertEqual(updated["Name"], name)
        self.assertEqual(updated["ARN"], created["ARN"])
        second = updated["VersionId"]
        self.assertNotEqual(second, first)

        value = self.cli("get-secret-value", "--secret-id", name)
        self.assertEqual(value["Name"], name)
        self.assertEqual(value["ARN"], created["ARN"])
        self.assertEqual(value["SecretString"], "cli-two")
        self.assertEqual(value["VersionId"], second)
        self.assertEqual(value["VersionStages"], ["AWSCURRENT"])
        self.assertLess(
            abs(self.cli_timestamp(value["CreatedDate"]) - utc_now()), CLOCK_TOLERANCE
        )

        previous = self.cli(
            "get-secret-value", "--secret-id", name, "--version-stage", "AWSPREVIOUS"
        )
        self.assertEqual(previous["SecretString"], "cli-one")
        self.assertEqual(previous["VersionId"], first)

        token = str(uuid.uuid4())
        put = self.cli(
            "put-secret-value",
            "--secret-id",
            name,
            "--secret-string",
            "cli-three",
            "--client-request-token",
            token,
        )
        self.assertEqual(put["VersionId"], token)
        self.assertEqual(put["VersionStages"], ["AWSCURRENT"])
        self.assertEqual(self.cli("get-secret-value", "--secret-id", name)["SecretString"], "cli-three")

        listing = self.cli("list-secret-version-ids", "--secret-id", name)
        self.assertEqual(listing["Name"], name)
        self.assertEqual(listing["ARN"], created["ARN"])
        self.assertEqual(
            self.stages_of(listing), {second: ["AWSPREVIOUS"], token: ["AWSCURRENT"]}
        )
        everything = self.cli(
            "list-secret-version-ids", "--secret-id", name, "--include-deprecated"
        )
        self.assertEqual(
            self.stages_of(everything),
            {first: [], second: ["AWSPREVIOUS"], token: ["AWSCURRENT"]},
        )

        deleted = self.cli(
            "delete-secret", "--secret-id", name, "--recovery-window-in-days", "7"
        )
        self.assertEqual(deleted["Name"], name)
        self.assertEqual(deleted["ARN"], created["ARN"])
        deletion = self.cli_timestamp(deleted["DeletionDate"])
        self.assertLess(
            abs(deletion - (utc_now() + datetime.timedelta(days=7))), CLOCK_TOLERANCE
        )
        self.cli_error("InvalidRequestException", "get-secret-value", "--secret-id", name)
        described = self.cli("describe-secret", "--secret-id", name)
        self.assertIn("DeletedDate", described)

        restored = self.cli("restore-secret", "--secret-id", name)
        self.assertEqual(restored["Name"], name)
        self.assertEqual(restored["ARN"], created["ARN"])
        self.assertEqual(self.cli("get-secret-value", "--secret-id", name)["SecretString"], "cli-three")

        self.cli("delete-secret", "--secret-id", name, "--force-delete-without-recovery")
        self.cli_error("ResourceNotFoundException", "describe-secret", "--secret-id", name)

    def test_cli_binary_secret_from_file(self):
        name = unique_name("cli-binary")
        payload = bytes(range(256))
        self.cli("create-secret", "--name", name, "--secret-string", "text")
        with tempfile.TemporaryDirectory() as directory:
            path = os.path.join(directory, "payload.bin")
            with open(path, "wb") as file:
                file.write(payload)
            put = self.cli(
                "put-secret-value", "--secret-id", name, "--secret-binary", f"fileb://{path}"
            )
        self.assertEqual(put["VersionStages"], ["AWSCURRENT"])
        value = self.cli("get-secret-value", "--secret-id", name)
        self.assertNotIn("SecretString", value)
        self.assertEqual(base64.b64decode(value["SecretBinary"]), payload)
        self.assertEqual(value["VersionId"], put["VersionId"])

    def test_cli_missing_secret_is_resource_not_found(self):
        stderr = self.cli_error(
            "ResourceNotFoundException",
            "get-secret-value",
            "--secret-id",
            unique_name("cli-missing"),
        )
        self.assertIn("GetSecretValue", stderr)

    def test_cli_invalid_recovery_window_is_invalid_parameter(self):
        name = unique_name("cli-window")
        self.cli("create-secret", "--name", name, "--secret-string", "x")
        self.cli_error(
            "InvalidParameterException",
            "delete-secret",
            "--secret-id",
            name,
            "--recovery-window-in-days",
            "3",
        )
        self.assertEqual(self.cli("get-secret-value", "--secret-id", name)["SecretString"], "x")

    def test_cli_list_secrets_with_filters(self):
        prefix = f"compat/cli-list-{uuid.uuid4().hex}/"
        one, two, three = (prefix + suffix for suffix in ("one", "two", "three"))
        self.cli(
            "create-secret", "--name", one, "--secret-string", "1",
            "--description", "alpha database", "--tags", "Key=env,Value=prod",
        )
        self.cli("create-secret", "--name", two, "--secret-string", "2", "--description", "beta")
        self.cli(
            "create-secret", "--name", three, "--secret-string", "3",
            "--description", "Alpha cache", "--tags", "Key=env,Value=dev",
        )

        def names(*arguments):
            listing = self.cli("list-secrets", *arguments)
            return [entry["Name"] for entry in listing["SecretList"]]

        mine = f"Key=name,Values={prefix}"
        self.assertEqual(names("--filters", mine), [one, two, three])
        self.assertEqual(names("--filters", f"Key=name,Values={three},{one}"), [one, three])
        self.assertEqual(names("--filters", mine, "Key=tag-key,Values=env"), [one, three])
        self.assertEqual(names("--filters", mine, "Key=description,Values=ALPHA"), [one, three])
        self.assertEqual(names("--filters", mine, "Key=description,Values=!alpha"), [two])
        self.assertEqual(names("--filters", mine, "--sort-order", "desc"), [three, two, one])
        self.assertEqual(
            names("--filters", mine, "--sort-by", "name"), sorted([one, two, three])
        )
        # The CLI's own pagination over the server's page tokens.
        self.assertEqual(names("--filters", mine, "--page-size", "1"), [one, two, three])
        first = self.cli("list-secrets", "--filters", mine, "--max-items", "2")
        self.assertEqual([e["Name"] for e in first["SecretList"]], [one, two])
        self.assertTrue(first.get("NextToken"), first)
        self.assertEqual(
            names("--filters", mine, "--starting-token", first["NextToken"]), [three]
        )
        # Planned deletion.
        self.cli("delete-secret", "--secret-id", two, "--recovery-window-in-days", "7")
        self.assertEqual(names("--filters", mine), [one, three])
        listing = self.cli("list-secrets", "--filters", mine, "--include-planned-deletion")
        self.assertEqual([e["Name"] for e in listing["SecretList"]], [one, two, three])
        self.assertIn("DeletedDate", listing["SecretList"][1])
        stderr = self.cli_error(
            "InvalidParameterException", "list-secrets", "--filters", "Key=name"
        )
        self.assertIn("Invalid filter values for key: name", stderr)

    def test_cli_batch_get_secret_value(self):
        prefix = f"compat/cli-batch-{uuid.uuid4().hex}/"
        names = [prefix + f"s{i}" for i in range(3)]
        arns = [
            self.cli("create-secret", "--name", name, "--secret-string", f"value-{i}")["ARN"]
            for i, name in enumerate(names)
        ]
        missing = prefix + "missing"
        answer = self.cli(
            "batch-get-secret-value", "--secret-id-list", names[2], missing, arns[0]
        )
        self.assertEqual(
            [(v["Name"], v["SecretString"]) for v in answer["SecretValues"]],
            [(names[2], "value-2"), (names[0], "value-0")],
        )
        self.assertEqual(
            answer["Errors"],
            [
                {
                    "SecretId": missing,
                    "ErrorCode": "ResourceNotFoundException",
                    "Message": "Secrets Manager can't find the specified secret.",
                }
            ],
        )

        mine = f"Key=name,Values={prefix}"
        first = self.cli("batch-get-secret-value", "--filters", mine, "--max-results", "2")
        self.assertEqual([v["Name"] for v in first["SecretValues"]], names[:2])
        self.assertTrue(first.get("NextToken"), first)
        second = self.cli(
            "batch-get-secret-value", "--filters", mine, "--max-results", "2",
            "--next-token", first["NextToken"],
        )
        self.assertEqual([v["Name"] for v in second["SecretValues"]], names[2:])
        self.assertNotIn("NextToken", second)

        self.cli_error(
            "InvalidParameterException",
            "batch-get-secret-value", "--secret-id-list", names[0], "--filters", mine,
        )


    def test_cli_get_random_password(self):
        response = self.cli(
            "get-random-password", "--password-length", "20", "--exclude-punctuation"
        )
        self.assertEqual(set(response), {"RandomPassword"})
        password = response["RandomPassword"]
        self.assertEqual(len(password), 20, password)
        self.assertFalse(set(password) & set(string.punctuation + " "), password)
        for kind in (string.ascii_uppercase, string.ascii_lowercase, string.digits):
            self.assertTrue(set(password) & set(kind), f"{password} lacks one of {kind}")

        spaced = self.cli(
            "get-random-password",
            "--password-length",
            "64",
            "--exclude-uppercase",
            "--exclude-numbers",
            "--exclude-punctuation",
            "--include-space",
            "--no-require-each-included-type",
            "--exclude-characters",
            "aeiou",
        )["RandomPassword"]
        self.assertEqual(len(spaced), 64, spaced)
        self.assertTrue(set(spaced) <= set("bcdfghjklmnpqrstvwxyz "), spaced)

        self.cli_error(
            "InvalidParameterException",
            "get-random-password",
            "--exclude-uppercase",
            "--exclude-lowercase",
            "--exclude-numbers",
            "--exclude-punctuation",
        )

def make_kms_client():
    session = boto3.session.Session(
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name=REGION,
    )
    return session.client(
        "kms",
        endpoint_url=endpoint(),
        config=Config(
            retries={"max_attempts": 1, "mode": "standard"},
            connect_timeout=10,
            read_timeout=60,
        ),
    )


def key_arn(key_id):
    return f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/{key_id}"


class KmsBoto3Test(unittest.TestCase):
    """The KMS API (`TrentService.*`, signed for `kms`) through boto3."""

    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.kms = make_kms_client()

    def create_key(self, **kwargs):
        metadata = self.kms.create_key(**kwargs)["KeyMetadata"]
        return metadata["KeyId"]

    def assert_kms_error(self, code, message, operation, **kwargs):
        """Expects a ClientError with `code` (and `message` unless None); returns it."""
        with self.assertRaises(ClientError, msg=f"expected {code}") as caught:
            operation(**kwargs)
        error = caught.exception.response["Error"]
        self.assertEqual(error["Code"], code, caught.exception.response)
        if message is not None:
            self.assertEqual(error.get("Message", ""), message, caught.exception.response)
        return caught.exception

    def test_create_and_describe_key(self):
        metadata = self.kms.create_key(Description="compat key", KeyUsage="ENCRYPT_DECRYPT")[
            "KeyMetadata"
        ]
        key_id = metadata["KeyId"]
        self.assertEqual(str(uuid.UUID(key_id)), key_id)
        self.assertEqual(metadata["Arn"], key_arn(key_id))
        self.assertEqual(metadata["AWSAccountId"], ACCOUNT_ID)
        self.assertEqual(metadata["KeyState"], "Enabled")
        self.assertIs(metadata["Enabled"], True)
        self.assertEqual(metadata["KeySpec"], "SYMMETRIC_DEFAULT")
        self.assertEqual(metadata["CustomerMasterKeySpec"], "SYMMETRIC_DEFAULT")
        self.assertEqual(metadata["EncryptionAlgorithms"], ["SYMMETRIC_DEFAULT"])
        self.assertEqual(metadata["KeyManager"], "CUSTOMER")
        self.assertEqual(metadata["Origin"], "AWS_KMS")
        self.assertIsInstance(metadata["CreationDate"], datetime.datetime)
        self.assertLess(abs(metadata["CreationDate"] - utc_now()), CLOCK_TOLERANCE)
        described = self.kms.describe_key(KeyId=key_arn(key_id))["KeyMetadata"]
        self.assertEqual(described["Description"], "compat key")
        self.assertEqual(described["CurrentKeyMaterialId"], metadata["CurrentKeyMaterialId"])

        missing = str(uuid.uuid4())
        self.assert_kms_error(
            "NotFoundException",
            f"Key '{key_arn(missing)}' does not exist",
            self.kms.describe_key,
            KeyId=missing,
        )
        self.assert_kms_error(
            "NotFoundException", "Invalid keyId 'fake-key-id'", self.kms.describe_key, KeyId="fake-key-id"
        )
        self.assert_kms_error(
            "UnsupportedOperationException",
            None,
            self.kms.create_key,
            KeySpec="ECC_NIST_P256",
            KeyUsage="SIGN_VERIFY",
        )

    def test_encrypt_decrypt_reencrypt_and_data_keys(self):
        key_id = self.create_key()
        other = self.create_key()
        encrypted = self.kms.encrypt(
            KeyId=key_id, Plaintext=b"compat plaintext", EncryptionContext={"app": "compat"}
        )
        self.assertEqual(encrypted["KeyId"], key_arn(key_id))
        self.assertEqual(encrypted["EncryptionAlgorithm"], "SYMMETRIC_DEFAULT")
        blob = encrypted["CiphertextBlob"]
        self.assertIsInstance(blob, bytes)
        decrypted = self.kms.decrypt(CiphertextBlob=blob, EncryptionContext={"app": "compat"})
        self.assertEqual(decrypted["Plaintext"], b"compat plaintext")
        self.assertEqual(decrypted["KeyId"], key_arn(key_id))
        self.assertEqual(len(decrypted["KeyMaterialId"]), 64)

        self.assert_kms_error("InvalidCiphertextException", "", self.kms.decrypt, CiphertextBlob=blob)
        self.assert_kms_error(
            "InvalidCiphertextException",
            "",
            self.kms.decrypt,
            CiphertextBlob=blob + b"bad_data",
            EncryptionContext={"app": "compat"},
        )
        self.assert_kms_error(
            "IncorrectKeyException",
            "The key ID in the request does not identify a CMK that can perform this operation.",
            self.kms.decrypt,
            CiphertextBlob=blob,
            KeyId=other,
            EncryptionContext={"app": "compat"},
        )

        moved = self.kms.re_encrypt(
            CiphertextBlob=blob,
            SourceEncryptionContext={"app": "compat"},
            DestinationKeyId=other,
        )
        self.assertEqual(moved["SourceKeyId"], key_arn(key_id))
        self.assertEqual(moved["KeyId"], key_arn(other))
        self.assertEqual(self.kms.decrypt(CiphertextBlob=moved["CiphertextBlob"])["Plaintext"], b"compat plaintext")

        data_key = self.kms.generate_data_key(KeyId=key_id, KeySpec="AES_256")
        self.assertEqual(len(data_key["Plaintext"]), 32)
        self.assertEqual(
            self.kms.decrypt(CiphertextBlob=data_key["CiphertextBlob"])["Plaintext"], data_key["Plaintext"]
        )
        without = self.kms.generate_data_key_without_plaintext(KeyId=key_id, NumberOfBytes=64)
        self.assertNotIn("Plaintext", without)
        self.assertEqual(len(self.kms.decrypt(CiphertextBlob=without["CiphertextBlob"])["Plaintext"]), 64)
        error = self.assert_kms_error(
            "ValidationException", None, self.kms.encrypt, KeyId=key_id, Plaintext=b"x" * 4097
        )
        self.assertIn("Member must have length less than or equal to 4096", str(error))

    def test_disable_schedule_and_cancel_deletion(self):
        key_id = self.create_key()
        arn = key_arn(key_id)
        blob = self.kms.encrypt(KeyId=key_id, Plaintext=b"state")["CiphertextBlob"]
        self.kms.disable_key(KeyId=key_id)
        self.assertEqual(self.kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"], "Disabled")
        self.assert_kms_error(
            "DisabledException", f"{arn} is disabled.", self.kms.encrypt, KeyId=key_id, Plaintext=b"x"
        )
        self.assert_kms_error("DisabledException", f"{arn} is disabled.", self.kms.decrypt, CiphertextBlob=blob)
        self.kms.enable_key(KeyId=key_id)

        scheduled = self.kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
        self.assertEqual(scheduled["KeyId"], arn)
        self.assertEqual(scheduled["KeyState"], "PendingDeletion")
        self.assertEqual(scheduled["PendingWindowInDays"], 7)
        self.assertLess(
            abs(scheduled["DeletionDate"] - (utc_now() + datetime.timedelta(days=7))), CLOCK_TOLERANCE
        )
        metadata = self.kms.describe_key(KeyId=key_id)["KeyMetadata"]
        self.assertIs(metadata["Enabled"], False)
        self.assertIn("DeletionDate", metadata)
        self.assert_kms_error(
            "KMSInvalidStateException", f"{arn} is pending deletion.", self.kms.decrypt, CiphertextBlob=blob
        )
        self.assert_kms_error(
            "KMSInvalidStateException", f"{arn} is pending deletion.", self.kms.schedule_key_deletion, KeyId=key_id
        )
        self.assertEqual(self.kms.cancel_key_deletion(KeyId=key_id)["KeyId"], arn)
        metadata = self.kms.describe_key(KeyId=key_id)["KeyMetadata"]
        self.assertEqual(metadata["KeyState"], "Disabled")
        self.assertNotIn("DeletionDate", metadata)

        error = self.assert_kms_error(
            "ValidationException", None, self.kms.schedule_key_deletion, KeyId=key_id, PendingWindowInDays=31
        )
        self.assertIn("Member must have value less than or equal to 30", str(error))

    def test_aliases(self):
        key_id = self.create_key()
        other = self.create_key()
        name = f"alias/compat-{uuid.uuid4().hex}"
        self.kms.create_alias(AliasName=name, TargetKeyId=key_id)
        self.assertEqual(self.kms.describe_key(KeyId=name)["KeyMetadata"]["KeyId"], key_id)
        self.assert_kms_error(
            "AlreadyExistsException",
            f"An alias with the name arn:aws:kms:{REGION}:{ACCOUNT_ID}:{name} already exists",
            self.kms.create_alias,
            AliasName=name,
            TargetKeyId=other,
        )
        self.assert_kms_error(
            "ValidationException",
            'Alias must start with the prefix "alias/". Please see '
            "https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html",
            self.kms.create_alias,
            AliasName="no-prefix",
            TargetKeyId=key_id,
        )
        self.assert_kms_error(
            "NotAuthorizedException", None, self.kms.create_alias, AliasName="alias/aws/compat", TargetKeyId=key_id
        )
        self.kms.update_alias(AliasName=name, TargetKeyId=other)
        aliases = self.kms.list_aliases(KeyId=other)["Aliases"]
        self.assertEqual([a["AliasName"] for a in aliases], [name])
        self.assertEqual(aliases[0]["AliasArn"], f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:{name}")
        self.assertEqual(aliases[0]["TargetKeyId"], other)
        self.assertIsInstance(aliases[0]["CreationDate"], datetime.datetime)
        self.kms.delete_alias(AliasName=name)
        self.assert_kms_error(
            "NotFoundException",
            f"Alias arn:aws:kms:{REGION}:{ACCOUNT_ID}:{name} is not found.",
            self.kms.describe_key,
            KeyId=name,
        )

    def test_list_keys_pages_with_the_paginator(self):
        created = {self.create_key() for _ in range(3)}
        first = self.kms.list_keys(Limit=1)
        self.assertEqual(len(first["Keys"]), 1)
        self.assertIs(first["Truncated"], True)
        self.assertIn("NextMarker", first)
        seen = []
        for page in self.kms.get_paginator("list_keys").paginate(PaginationConfig={"PageSize": 2}):
            self.assertLessEqual(len(page["Keys"]), 2)
            seen.extend(key["KeyId"] for key in page["Keys"])
        self.assertEqual(len(seen), len(set(seen)))
        self.assertTrue(created <= set(seen))

    def test_rotation(self):
        key_id = self.create_key()
        self.assertIs(self.kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"], False)
        self.kms.enable_key_rotation(KeyId=key_id, RotationPeriodInDays=90)
        status = self.kms.get_key_rotation_status(KeyId=key_id)
        self.assertIs(status["KeyRotationEnabled"], True)
        self.assertEqual(status["RotationPeriodInDays"], 90)
        self.assertLess(
            abs(status["NextRotationDate"] - (utc_now() + datetime.timedelta(days=90))), CLOCK_TOLERANCE
        )
        before = self.kms.describe_key(KeyId=key_id)["KeyMetadata"]["CurrentKeyMaterialId"]
        blob = self.kms.encrypt(KeyId=key_id, Plaintext=b"old")["CiphertextBlob"]
        self.assertEqual(self.kms.rotate_key_on_demand(KeyId=key_id)["KeyId"], key_arn(key_id))
        after = self.kms.describe_key(KeyId=key_id)["KeyMetadata"]["CurrentKeyMaterialId"]
        self.assertNotEqual(before, after)
        self.assertEqual(self.kms.decrypt(CiphertextBlob=blob)["Plaintext"], b"old")
        self.kms.disable_key_rotation(KeyId=key_id)
        self.assertIs(self.kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"], False)


class KmsCliTest(unittest.TestCase):
    """The KMS API through the unmodified aws CLI (`aws kms ...`)."""

    maxDiff = None

    def run_kms(self, *arguments):
        return run_aws("kms", *arguments)

    def kms(self, *arguments):
        result = self.run_kms(*arguments)
        self.assertEqual(
            result.returncode,
            0,
            f"aws kms {' '.join(arguments)} failed (exit {result.returncode}):\n"
            f"stdout: {result.stdout}\nstderr: {result.stderr}",
        )
        return json.loads(result.stdout) if result.stdout.strip() else {}

    def kms_error(self, code, *arguments):
        result = self.run_kms(*arguments)
        self.assertNotEqual(result.returncode, 0, f"aws kms {' '.join(arguments)} should have failed")
        self.assertIn(f"({code})", result.stderr, result.stderr)
        return result.stderr

    def test_cli_key_alias_and_encryption(self):
        key_id = self.kms("create-key", "--description", "cli key")["KeyMetadata"]["KeyId"]
        alias = f"alias/cli-{uuid.uuid4().hex}"
        self.kms("create-alias", "--alias-name", alias, "--target-key-id", key_id)
        described = self.kms("describe-key", "--key-id", alias)["KeyMetadata"]
        self.assertEqual(described["KeyId"], key_id)
        self.assertEqual(described["Description"], "cli key")

        with tempfile.TemporaryDirectory() as directory:
            plain_path = os.path.join(directory, "plain.txt")
            with open(plain_path, "wb") as handle:
                handle.write(b"cli plaintext")
            encrypted = self.kms(
                "encrypt", "--key-id", alias, "--plaintext", f"fileb://{plain_path}"
            )
            self.assertEqual(encrypted["KeyId"], key_arn(key_id))
            blob_path = os.path.join(directory, "blob.bin")
            with open(blob_path, "wb") as handle:
                handle.write(base64.b64decode(encrypted["CiphertextBlob"]))
            decrypted = self.kms("decrypt", "--ciphertext-blob", f"fileb://{blob_path}")
            self.assertEqual(base64.b64decode(decrypted["Plaintext"]), b"cli plaintext")
            self.assertEqual(decrypted["KeyId"], key_arn(key_id))

            self.kms("disable-key", "--key-id", key_id)
            stderr = self.kms_error("DisabledException", "decrypt", "--ciphertext-blob", f"fileb://{blob_path}")
            self.assertIn(f"{key_arn(key_id)} is disabled.", stderr)

        scheduled = self.kms("schedule-key-deletion", "--key-id", key_id, "--pending-window-in-days", "7")
        self.assertEqual(scheduled["KeyState"], "PendingDeletion")
        self.assertEqual(scheduled["PendingWindowInDays"], 7)
        listed = self.kms("list-aliases", "--key-id", key_id)["Aliases"]
        self.assertEqual([entry["AliasName"] for entry in listed], [alias])
        self.kms_error("NotFoundException", "describe-key", "--key-id", "fake-key-id")

    def run_sm(self, *arguments):
        return run_aws("secretsmanager", *arguments)

    def sm(self, *arguments):
        result = self.run_sm(*arguments)
        self.assertEqual(result.returncode, 0, f"aws secretsmanager {' '.join(arguments)}: {result.stderr}")
        return json.loads(result.stdout) if result.stdout.strip() else {}

    def test_cli_secret_moved_between_keys(self):
        """A secret under a customer key (by alias), moved to another key (by ARN) with
        update-secret --kms-key-id: the labelled versions follow, the older one stays."""
        first = self.kms("create-key", "--description", "first")["KeyMetadata"]["KeyId"]
        second = self.kms("create-key", "--description", "second")["KeyMetadata"]["KeyId"]
        alias = f"alias/sm-{uuid.uuid4().hex}"
        self.kms("create-alias", "--alias-name", alias, "--target-key-id", first)
        name = f"cli-moved-{uuid.uuid4().hex}"
        self.sm("create-secret", "--name", name, "--secret-string", "one", "--kms-key-id", alias)
        self.sm("put-secret-value", "--secret-id", name, "--secret-string", "two")
        self.sm("put-secret-value", "--secret-id", name, "--secret-string", "three")
        self.assertEqual(self.sm("describe-secret", "--secret-id", name)["KmsKeyId"], alias)

        self.sm("update-secret", "--secret-id", name, "--kms-key-id", key_arn(second))
        self.assertEqual(self.sm("describe-secret", "--secret-id", name)["KmsKeyId"], key_arn(second))
        versions = self.sm("list-secret-version-ids", "--secret-id", name, "--include-deprecated")["Versions"]
        keys = {tuple(v.get("VersionStages", [])): v["KmsKeyIds"] for v in versions}
        self.assertEqual(keys[("AWSCURRENT",)], [key_arn(second)])
        self.assertEqual(keys[("AWSPREVIOUS",)], [key_arn(second)])
        self.assertEqual(keys[()], [alias])

        # The first key disabled: the moved versions still read, the old one does not.
        self.kms("disable-key", "--key-id", first)
        current = self.sm("get-secret-value", "--secret-id", name)
        self.assertEqual(current["SecretString"], "three")
        previous = self.sm("get-secret-value", "--secret-id", name, "--version-stage", "AWSPREVIOUS")
        self.assertEqual(previous["SecretString"], "two")
        oldest = [v["VersionId"] for v in versions if not v.get("VersionStages")][0]
        result = self.run_sm("get-secret-value", "--secret-id", name, "--version-id", oldest)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("(DecryptionFailure)", result.stderr)

        # Back to the managed key with an empty KmsKeyId: DescribeSecret omits the key.
        self.sm("update-secret", "--secret-id", name, "--kms-key-id", "")
        self.assertNotIn("KmsKeyId", self.sm("describe-secret", "--secret-id", name))
        self.kms("disable-key", "--key-id", second)
        self.assertEqual(self.sm("get-secret-value", "--secret-id", name)["SecretString"], "three")
        # An unknown key is refused as AWS refuses it.
        result = self.run_sm("create-secret", "--name", f"{name}-x", "--secret-string", "x", "--kms-key-id", "alias/nope")
        self.assertIn("(AccessDeniedException)", result.stderr)


def main():
    try:
        endpoint()
    except RuntimeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    program = unittest.main(module=__name__, verbosity=2, exit=False)
    return 0 if program.result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())

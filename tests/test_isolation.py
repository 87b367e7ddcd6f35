"""The suite's own guard rails (tests/conftest.py): no AWS settings, loopback only."""

from __future__ import annotations

import os
import socket

import pytest


def test_no_connection_leaves_loopback() -> None:
    with socket.socket() as sock, pytest.raises(OSError, match="test guard"):
        sock.connect(("192.0.2.1", 443))  # TEST-NET-1: refused before any packet is sent


def test_loopback_is_allowed() -> None:
    with socket.socket() as server, socket.socket() as client:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        client.connect(server.getsockname())
        accepted, _ = server.accept()
        accepted.close()


def test_the_machine_s_aws_settings_are_hidden() -> None:
    assert os.environ["AWS_EC2_METADATA_DISABLED"] == "true"
    assert "AWS_PROFILE" not in os.environ
    assert "no-aws-config" in os.environ["AWS_CONFIG_FILE"]

"""Tests of the GitHub client, issue source, reporter and progress comment, against a loopback fake."""

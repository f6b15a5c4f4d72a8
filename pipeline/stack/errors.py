"""The one error the stack raises for things a person can act on."""

from __future__ import annotations


class StackError(RuntimeError):
    """A part of the local stack could not be set up, started or stopped; the message says which, why,
    and where its log is."""

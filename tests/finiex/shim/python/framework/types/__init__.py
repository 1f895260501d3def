"""Test shim: the API framework's module paths over fastpar's own classes."""

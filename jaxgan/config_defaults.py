"""jaxgan 0.1's path of `base_config`, kept so that config files written against it
still load; new code imports `from jaxgan import base_config` (jaxgan/config/defaults.py)."""

from jaxgan.config.defaults import base_config

__all__ = ["base_config"]

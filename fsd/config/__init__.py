"""XML configuration: the pre-processor and the loaded tree with its lookups."""

from fsd.config.preprocess import ConfigError, Preprocessor
from fsd.config.xmlconfig import XmlConfig, params_of

__all__ = ["ConfigError", "Preprocessor", "XmlConfig", "params_of"]

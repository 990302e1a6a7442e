"""The connected systems: the registry. One package per system (`providers/<type>/`);
`TYPES` maps a provider type to its class, and is the one line a new system adds.
`create()` builds a provider from its config block."""

from __future__ import annotations

from importlib import import_module

from orgctl.errors import OrgctlError
from orgctl.model import ProviderConfig
from orgctl.providers.base import Provider

TYPES: dict[str, str] = {
    "workelo": "orgctl.providers.workelo.provider:WorkeloProvider",
    "hrms": "orgctl.providers.hrms.provider:HrmsProvider",
    "workleap": "orgctl.providers.workleap.provider:WorkleapProvider",
    "worklete": "orgctl.providers.worklete.provider:WorkleteProvider",
}


def provider_class(type_name: str) -> type[Provider]:
    if type_name not in TYPES:
        raise OrgctlError(f"unknown provider type {type_name!r}; known: {', '.join(TYPES)}")
    module, _, name = TYPES[type_name].partition(":")
    return getattr(import_module(module), name)


def create(config: ProviderConfig) -> Provider:
    return provider_class(config.type)(config)

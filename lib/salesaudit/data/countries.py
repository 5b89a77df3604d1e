"""Country codes and the names CRM exports write for them, so that a slice ``country=DE`` finds the leads an
export stores as ``Germany`` (or ``DE``, ``Deutschland``).

:data:`NAMES` maps an ISO 3166-1 alpha-2 code to the spellings seen for it (the English short name first);
:func:`spellings` gives every spelling of the country a value names. Comparisons are case-insensitive.
"""

from __future__ import annotations

__all__ = ["NAMES", "spellings"]

#: ISO 3166-1 alpha-2 → spellings (English short name first; common alternatives and native names after)
NAMES: dict[str, tuple[str, ...]] = {
    "AT": ("Austria", "Österreich"),
    "AU": ("Australia",),
    "BE": ("Belgium", "België", "Belgique"),
    "BG": ("Bulgaria",),
    "BR": ("Brazil", "Brasil"),
    "CA": ("Canada",),
    "CH": ("Switzerland", "Schweiz", "Suisse", "Svizzera"),
    "CN": ("China",),
    "CY": ("Cyprus",),
    "CZ": ("Czechia", "Czech Republic", "Česko"),
    "DE": ("Germany", "Deutschland"),
    "DK": ("Denmark", "Danmark"),
    "EE": ("Estonia", "Eesti"),
    "ES": ("Spain", "España"),
    "FI": ("Finland", "Suomi"),
    "FR": ("France",),
    "GB": ("United Kingdom", "UK", "Great Britain", "England", "Scotland", "Wales", "Northern Ireland"),
    "GR": ("Greece", "Ελλάδα"),
    "HR": ("Croatia", "Hrvatska"),
    "HU": ("Hungary", "Magyarország"),
    "IE": ("Ireland", "Éire"),
    "IL": ("Israel",),
    "IN": ("India",),
    "IS": ("Iceland", "Ísland"),
    "IT": ("Italy", "Italia"),
    "JP": ("Japan",),
    "KR": ("South Korea", "Korea, Republic of"),
    "LI": ("Liechtenstein",),
    "LT": ("Lithuania", "Lietuva"),
    "LU": ("Luxembourg",),
    "LV": ("Latvia", "Latvija"),
    "MT": ("Malta",),
    "MX": ("Mexico", "México"),
    "NL": ("Netherlands", "The Netherlands", "Nederland", "Holland"),
    "NO": ("Norway", "Norge"),
    "NZ": ("New Zealand",),
    "PL": ("Poland", "Polska"),
    "PT": ("Portugal",),
    "RO": ("Romania", "România"),
    "SE": ("Sweden", "Sverige"),
    "SG": ("Singapore",),
    "SI": ("Slovenia", "Slovenija"),
    "SK": ("Slovakia", "Slovensko"),
    "TR": ("Türkiye", "Turkey"),
    "UA": ("Ukraine",),
    "US": ("United States", "USA", "United States of America", "U.S.", "U.S.A."),
    "ZA": ("South Africa",),
}

_BY_SPELLING: dict[str, str] = {}
for _code, _names in NAMES.items():
    _BY_SPELLING[_code.casefold()] = _code
    for _n in _names:
        _BY_SPELLING[_n.casefold()] = _code


def spellings(value: str) -> set[str]:
    """Every spelling (case-folded) of the country ``value`` names — its code and the names in :data:`NAMES` —
    or just ``value`` case-folded when it is not a country listed there.

    >>> sorted(spellings("de"))
    ['de', 'deutschland', 'germany']
    >>> spellings("Atlantis")
    {'atlantis'}
    """
    v = value.strip().casefold()
    code = _BY_SPELLING.get(v)
    if code is None:
        return {v}
    return {code.casefold(), *(n.casefold() for n in NAMES[code])}

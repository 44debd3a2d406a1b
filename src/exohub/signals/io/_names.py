"""Channel labels that devices write (``Voltage.LTA``, ``EMG R GAS``) -> names of the convention."""

from __future__ import annotations

import re

from exohub.signals.consts import UNNAMED_EMG_PREFIX

#: EMG label abbreviations (Vicon/Delsys/Noraxon habits) -> muscle of the convention. ``GAS`` alone is taken as
#: the medial head, the one surface-EMG protocols (SENIAM) place by default.
MUSCLE_ABBREVIATIONS: dict[str, str] = {
    "TA": "tibialis_anterior",
    "GAS": "gastrocnemius_medialis",
    "GM": "gastrocnemius_medialis",
    "MG": "gastrocnemius_medialis",
    "GL": "gastrocnemius_lateralis",
    "LG": "gastrocnemius_lateralis",
    "SOL": "soleus",
    "PL": "peroneus_longus",
    "RF": "rectus_femoris",
    "VL": "vastus_lateralis",
    "VM": "vastus_medialis",
    "BF": "biceps_femoris",
    "ST": "semitendinosus",
    "GMAX": "gluteus_maximus",
    "GMED": "gluteus_medius",
    "TFL": "tensor_fasciae_latae",
    "ADD": "adductor_longus",
    "IL": "iliopsoas",
    "ERS": "erector_spinae",
    "ES": "erector_spinae",
    "RA": "rectus_abdominis",
    "EO": "external_oblique",
}
_EMG_LABEL = re.compile(r"^(?:[A-Za-z]+[.:\s])?\s*(?P<side>L|R)[ _]?(?P<muscle>[A-Z]+)$")
_NUMBERED = re.compile(r"(?P<number>\d+)$")


def emg_name(label: str, unit: str, description: str, *, numbered: bool = True) -> str | None:
    """Return the EMG channel name for ``label`` (``Voltage.LTA``, ``R GAS``), or None if it is not named EMG.

    With ``numbered``, a label ending in a number ``n`` on an EMG system (``EMG`` in label or description) gives
    ``channel_<n>_emg``. Only channels in a voltage unit count as EMG.
    """
    if unit.strip().lower() not in {"v", "mv", "uv", "µv", "μv"}:
        return None
    match = _EMG_LABEL.match(label)
    if match is not None and match["muscle"] in MUSCLE_ABBREVIATIONS:
        side = {"L": "left", "R": "right"}[match["side"]]
        return f"{side}_{MUSCLE_ABBREVIATIONS[match['muscle']]}_emg"
    number = _NUMBERED.search(label)
    if numbered and number is not None and "EMG" in f"{label} {description}".upper():
        return f"{UNNAMED_EMG_PREFIX}{int(number['number'])}_emg"
    return None

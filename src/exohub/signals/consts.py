"""The CSV recording convention: channel names ``<location>_<quantity>[_<axis>]`` and the fixed unit of each quantity.

Everything that names a channel (readers, writers, algorithms, the CLI) takes its vocabulary from here.
"""

from typing import Final

TIME_COLUMN: Final = "time_s"

SIDES: Final = ("left", "right")
AXES: Final = ("x", "y", "z")

#: quantity -> unit; values are stored in these units, always.
QUANTITY_UNITS: Final[dict[str, str]] = {
    "acc": "m/s^2",
    "gyr": "rad/s",
    "angle": "rad",
    "velocity": "rad/s",
    "torque": "N*m",
    "current": "A",
    "force": "N",
    "switch": "1",
    "emg": "V",
    "skin_temp": "degC",
}
#: quantities whose channels carry an axis suffix (the sensor's own axes, or the source's anatomical axes).
AXIS_QUANTITIES: Final = frozenset({"acc", "gyr", "force", "torque", "angle", "velocity"})
#: quantities that need an axis (a single acc or gyr component is meaningless without its siblings' frame).
AXIS_REQUIRED: Final = frozenset({"acc", "gyr"})

SIDED_SEGMENTS: Final = ("foot", "shank", "thigh")
JOINTS: Final = ("hip", "knee", "ankle")
UNSIDED_SEGMENTS: Final = ("pelvis", "lower_back", "trunk")

#: Surface-EMG muscles of the lower limb and trunk (SENIAM names).
MUSCLES: Final = (
    "tibialis_anterior",
    "gastrocnemius_medialis",
    "gastrocnemius_lateralis",
    "soleus",
    "peroneus_longus",
    "rectus_femoris",
    "vastus_lateralis",
    "vastus_medialis",
    "biceps_femoris",
    "semitendinosus",
    "gluteus_maximus",
    "gluteus_medius",
    "tensor_fasciae_latae",
    "adductor_longus",
    "iliopsoas",
    "erector_spinae",
    "rectus_abdominis",
    "external_oblique",
)
#: Where an EMG electrode's muscle is not recorded (a generic amplifier channel): ``channel_<n>_emg``.
UNNAMED_EMG_PREFIX: Final = "channel_"

#: Which quantities make sense where.
SEGMENT_QUANTITIES: Final = frozenset({"acc", "gyr", "angle", "velocity", "force", "switch", "skin_temp"})
JOINT_QUANTITIES: Final = frozenset({"angle", "velocity", "torque", "current", "force"})

EVENT_TYPES: Final = ("initial_contact", "final_contact")
#: Strides shorter or longer than this are not walking (a missed or extra event, a pause).
MIN_STRIDE_TIME_S: Final = 0.5
MAX_STRIDE_TIME_S: Final = 3.0

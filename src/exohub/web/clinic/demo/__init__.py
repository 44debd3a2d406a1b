"""The demo clinics' patients: device units, months of therapy sessions with analysed recordings, and outcomes.

:func:`seed_clinic_demo` fills the clinics that :func:`exohub.web.demo.seed_demo` created, through
the clinic services (:mod:`~exohub.web.clinic.service`, :mod:`~exohub.web.clinic.sessions`,
:mod:`~exohub.web.clinic.outcomes`) like a therapist would: register the clinic's exoskeletons and its patients,
record each session and upload its recording (analysed on attach, as an upload is), and enter the outcome
measures of every re-assessment.

Each session's recording is a real session of the assistance loop (:func:`exohub.control.session.run_session`)
on the virtual patient replaying synthetic hip gait, on a simulated clock, so it takes a fraction of its length:
early sessions walk with longer strides, a smaller range of motion at the affected hip and more assistance; later
ones faster, more symmetric, with less. Two sessions inject a fault (a thigh cuff heating the skin, a dropped link)
so safety events show. Outcome measures, taken every four weeks, follow each patient's recovery curve with
measurement noise. A seeded generator makes the content the same on every run; only the dates move with today's
date, so the history always ends about a week ago. The recordings cover a short walking bout of each session (tens
of seconds, not the whole session), which keeps the whole demo seeding within seconds.

One concept a module: ``_cohort`` (the clinics, patients and their courses: data only), ``_schedule`` (session
dates, re-assessment sessions, progress along a course), ``_recording`` (a session's simulated walking bout),
``_outcomes`` (a re-assessment's simulated measures) and ``_seed`` (writing it all through the services).
"""

from exohub.web.clinic.demo._cohort import (
    CLINICS,
    MANUFACTURER,
    MODEL_NAME,
    PATIENTS,
    Course,
    DemoClinic,
    DemoPatient,
    Incident,
    Span,
)
from exohub.web.clinic.demo._outcomes import berg_items
from exohub.web.clinic.demo._recording import (
    FULL_EXTENSION_NM,
    FULL_FLEXION_NM,
    LOOP_RATE_HZ,
    UNAFFECTED_SIDE_SHARE,
    session_recording,
)
from exohub.web.clinic.demo._schedule import HISTORY_ENDS_DAYS_AGO, assessment_indices, session_dates
from exohub.web.clinic.demo._seed import DEMO_ADDRESS, HIP_LIMITS_DEG, SEED, seed_clinic_demo

__all__ = [
    "CLINICS",
    "DEMO_ADDRESS",
    "FULL_EXTENSION_NM",
    "FULL_FLEXION_NM",
    "HIP_LIMITS_DEG",
    "HISTORY_ENDS_DAYS_AGO",
    "LOOP_RATE_HZ",
    "MANUFACTURER",
    "MODEL_NAME",
    "PATIENTS",
    "SEED",
    "UNAFFECTED_SIDE_SHARE",
    "Course",
    "DemoClinic",
    "DemoPatient",
    "Incident",
    "Span",
    "assessment_indices",
    "berg_items",
    "seed_clinic_demo",
    "session_dates",
    "session_recording",
]

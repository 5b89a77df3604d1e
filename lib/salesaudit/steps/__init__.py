"""One package per audit notebook: 01 ``process`` · 02 ``tools`` · 03 ``leads`` · 04 ``reporting`` ·
05 ``sales`` · 06 ``service`` · 07 ``planning``.

A step imports the foundations and ``salesaudit.data``; never another step, never ``salesaudit.report``.
"""

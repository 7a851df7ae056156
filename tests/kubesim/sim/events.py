"""Events: one storage (core/v1), two views: conversion to and from events.k8s.io/v1."""


def core_event_to_events_v1(ev):
    io = ev.get("involvedObject") or {}
    out = {"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": ev["metadata"],
           "eventTime": ev.get("eventTime"), "reason": ev.get("reason"), "note": ev.get("message"),
           "type": ev.get("type"), "regarding": io,
           "reportingController": ev.get("reportingComponent") or (ev.get("source") or {}).get("component", ""),
           "reportingInstance": ev.get("reportingInstance", ""), "action": ev.get("action", ""),
           "deprecatedSource": ev.get("source", {}), "deprecatedFirstTimestamp": ev.get("firstTimestamp"),
           "deprecatedLastTimestamp": ev.get("lastTimestamp"), "deprecatedCount": ev.get("count")}
    if ev.get("related"):
        out["related"] = ev["related"]
    return {k: v for k, v in out.items() if v is not None}


def events_v1_to_core_event(ev):
    out = {"apiVersion": "v1", "kind": "Event", "metadata": ev.get("metadata", {}),
           "involvedObject": ev.get("regarding") or {}, "reason": ev.get("reason"), "message": ev.get("note"),
           "type": ev.get("type"), "eventTime": ev.get("eventTime"), "action": ev.get("action"),
           "reportingComponent": ev.get("reportingController"), "reportingInstance": ev.get("reportingInstance"),
           "source": ev.get("deprecatedSource") or {"component": ev.get("reportingController", "")},
           "firstTimestamp": ev.get("deprecatedFirstTimestamp"), "lastTimestamp": ev.get("deprecatedLastTimestamp"),
           "count": ev.get("deprecatedCount"), "related": ev.get("related")}
    return {k: v for k, v in out.items() if v is not None}

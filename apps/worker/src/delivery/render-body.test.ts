import type { EventRecord } from "@hookbus/core/policy";
import { renderBody } from "./render-body.js";

const event = (type: EventRecord["type"], data: Record<string, unknown>): EventRecord => ({
  id: "evt_1",
  type,
  data,
  occurredAt: Date.parse("2026-11-23T04:10:00.000Z"),
  createdAt: 0,
});

test("the envelope carries type, the publish time and the data, as payloads.md shows", () => {
  const body = renderBody(event("record.updated", { transId: "435", formId: "319", formName: "Sample Form" }), {
    format: "envelope",
    legacyParameters: false,
  });
  expect(body).toBe(
    '{"type":"record.updated","timestamp":"2026-11-23T04:10:00.000Z","data":{"transId":"435","formId":"319","formName":"Sample Form"}}',
  );
});

test("native bodies: record.created has no OnUpdate; schedule.triggered keeps MyDataHelps' names and order", () => {
  const native = { format: "native", legacyParameters: false } as const;
  expect(renderBody(event("record.created", { transId: "435", formId: "319", formName: "Sample Form" }), native)).toBe(
    '{"trans_id":"435","form_id":"319","form_name":"Sample Form"}',
  );
  const schedule = event("schedule.triggered", {
    projectId: "p",
    participantId: "q",
    participantIdentifier: "PT-1",
    scheduleId: "s1",
    scheduleName: "Morning",
    triggeredAt: "2026-11-23T04:10:00.000Z",
  });
  expect(renderBody(schedule, native)).toBe(
    '{"EventType":"ScheduleTriggered","ProjectID":"p","ParticipantID":"q","ParticipantIdentifier":"PT-1","ScheduleID":"s1","ScheduleName":"Morning","TriggeredDate":"2026-11-23T04:10:00.000Z"}',
  );
});

test("an optional workflow description left out stays out of the native body", () => {
  const body = renderBody(
    event("record.review_changed", { transId: "1", formId: "2", formName: "F", workflow: { id: "3", name: "Data Entry" } }),
    { format: "native", legacyParameters: false },
  );
  expect(body).toBe('{"trans_id":"1","form_id":"2","form_name":"F","workflow":{"wf_id":"3","wf_name":"Data Entry"}}');
});

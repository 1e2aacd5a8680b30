import type { EventRecord, Subscription } from "@hookbus/core/policy";
import type { RecordChangedData, RecordReviewChangedData, ScheduleTriggeredData, SurveySubmittedData } from "@hookbus/schemas";

/** The JSON body a receiver gets for an event, in the subscription's format. */
export function renderBody(event: EventRecord, subscription: Pick<Subscription, "format" | "legacyParameters">): string {
  if (subscription.format === "native") return JSON.stringify(nativeBody(event, subscription.legacyParameters));
  return JSON.stringify({ type: event.type, timestamp: new Date(event.occurredAt).toISOString(), data: event.data });
}

/**
 * The platform's own body, keys in the platform's order (payloads.md), so receivers built
 * for MyDataHelps or TrialKit work unchanged. Optional fields absent from the event are left out.
 */
export function nativeBody(event: EventRecord, legacyParameters: boolean): Record<string, unknown> {
  switch (event.type) {
    case "survey.submitted": {
      const d = event.data as SurveySubmittedData;
      return compact({
        ...myDataHelpsCommon("SurveySubmitted", d, legacyParameters),
        SurveyResultID: d.surveyResultId,
        SurveyID: d.surveyId,
        SurveyName: d.surveyName,
        SubmittedDate: d.submittedAt,
      });
    }
    case "schedule.triggered": {
      const d = event.data as ScheduleTriggeredData;
      return compact({
        ...myDataHelpsCommon("ScheduleTriggered", d, legacyParameters),
        ScheduleID: d.scheduleId,
        ScheduleName: d.scheduleName,
        TriggeredDate: d.triggeredAt,
      });
    }
    case "record.created":
      return trialKitRecord(event.data as RecordChangedData);
    case "record.updated":
      return { ...trialKitRecord(event.data as RecordChangedData), OnUpdate: true };
    case "record.review_changed": {
      const d = event.data as RecordReviewChangedData;
      return {
        ...trialKitRecord(d),
        workflow: compact({ wf_id: d.workflow.id, wf_name: d.workflow.name, wf_desc: d.workflow.description }),
      };
    }
    // Hookbus's own operational event has no platform body: its data is its native form.
    case "subscription.disabled":
      return event.data;
  }
}

function myDataHelpsCommon(
  eventType: string,
  d: Pick<SurveySubmittedData, "projectId" | "participantId" | "participantIdentifier">,
  legacyParameters: boolean,
): Record<string, unknown> {
  return {
    EventType: eventType,
    ProjectID: d.projectId,
    ParticipantID: d.participantId,
    ParticipantIdentifier: d.participantIdentifier,
    ...(legacyParameters ? { PatientID: d.participantId, PatientIdentifier: d.participantIdentifier } : {}),
  };
}

function trialKitRecord(d: RecordChangedData): Record<string, unknown> {
  return { trans_id: d.transId, form_id: d.formId, form_name: d.formName };
}

function compact(body: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined));
}

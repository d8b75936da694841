"""Friendly labels for intents, used when the bot asks 'did you mean...?'."""

INTENT_LABELS: dict[str, str] = {
    "greet": "Say hello",
    "goodbye": "Say goodbye",
    "thank": "Say thanks",
    "affirm": "Yes",
    "deny": "No",
    "bot_challenge": "Am I talking to a bot?",
    "ask_second_opinion": "What is a second opinion?",
    "ask_advocacy": "What is medical navigation?",
    "ask_difference": "How are they different?",
    "ask_both": "Can I have both?",
    "request_assessment": "Help me decide which fits",
    "situation_verify_treatment": "I want a treatment plan checked",
    "situation_verify_diagnosis": "I doubt my diagnosis",
    "situation_new_diagnosis": "I've had a new serious diagnosis",
    "situation_unexplained_symptoms": "Symptoms nobody can explain",
    "situation_caregiver": "I'm managing a relative's care",
    "book_call": "Book the free call",
    "ask_cost": "What does it cost?",
    "ask_call_details": "What happens on the call?",
    "ask_navigators": "Who are the navigators?",
    "request_human": "Talk to a person",
    "medical_advice": "A medical question",
    "emergency": "This is an emergency",
    "cancel_booking": "Cancel my call",
    "reschedule_booking": "Move my call",
    "delete_my_data": "Delete my data",
    "inform": "Give my details",
    "stop": "Stop the questions",
    "other_language": "Another language",
}


def intent_label(intent: str) -> str:
    """A visitor-facing label for an intent name."""
    return INTENT_LABELS.get(intent, intent.replace("_", " ").capitalize())

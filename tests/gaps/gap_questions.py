"""A fixture set of questions the guidance might miss: six topics, five phrasings each, in the
voices people use (Slack one-liners, long questions, other words for the same thing). Two
topics are near the knowledge folder (cost of training, multilingual data), the rest are not."""

from __future__ import annotations

TOPICS: dict[str, tuple[str, ...]] = {
    "vision": (
        "Can we fine-tune a model on our X-ray images to spot fractures?",
        "how do I train a vision model on product photos",
        "Is LoRA usable for image classification of satellite pictures?",
        "We have 10k labelled photos of defects on the assembly line; can a model learn to flag them?",
        "What about computer vision: adapting a model to recognise our scanned medical images",
    ),
    "gpu": (
        "How many GPUs do we need to fine-tune a 70B model on-prem?",
        "what graphics cards should we buy for training in our own data centre",
        "Is an A100 with 40GB enough memory to train a 13B parameter model?",
        "Our infra team asks which GPU hardware to order for local fine-tuning runs",
        "How much VRAM does training a large model on our own servers take?",
    ),
    "languages": (
        "Does fine-tuning work for Japanese and Korean support tickets?",
        "our customers write in Portuguese and Spanish, will the model handle other languages",
        "Should we translate our training data into English first or keep it multilingual?",
        "How well do these models answer in German if the documents are in English?",
        "multilingual chatbot: one model for French, Italian and Dutch users?",
    ),
    "latency_sla": (
        "What latency SLA can we promise if we self-host the model?",
        "p99 response time under 200ms, is that realistic for a chat model",
        "How do we keep answers fast during peak traffic at 500 requests per second?",
        "the bot is too slow for our call centre, how do we cut response times",
        "Can streaming tokens make a slow model feel quick enough for live agents?",
    ),
    "catering": (
        "Who is catering the offsite lunch on Friday?",
        "can someone order pizza for the team meeting",
        "What snacks are allowed in the office kitchen?",
        "is there a vegetarian option for the Christmas dinner menu",
        "Which restaurant did we book for the sales team celebration?",
    ),
    "licensing": (
        "Can we use Llama weights commercially in our product?",
        "what does the model licence allow if we sell a fine-tuned version",
        "Are there legal restrictions on redistributing open-weight models?",
        "Is Mistral's licence compatible with shipping the model to customers on-prem?",
        "Do we own the fine-tuned weights, or does the base model's licence still apply?",
    ),
}


def labelled() -> list[tuple[str, str]]:
    """(topic, question) for every question, topic by topic."""
    return [(topic, question) for topic, questions in TOPICS.items() for question in questions]


# Written after the default ADVISOR_GAPS_GROUP_SIMILARITY was chosen on TOPICS, and never used
# to choose it: the purity measured here is the honest figure.
HELD_OUT: dict[str, tuple[str, ...]] = {
    "on_device": (
        "Can the model run offline on an Android phone?",
        "we want inference on edge devices in trucks without internet, possible?",
        "How small does a model have to be to fit on a Raspberry Pi?",
        "Is quantising to 4 bits enough to ship the assistant inside our iOS app?",
    ),
    "prompt_injection": (
        "How do we stop users from jailbreaking the support bot?",
        "what if a document contains hidden instructions that hijack the assistant",
        "Protecting our agent against prompt injection attacks from web pages",
        "Can someone trick the chatbot into revealing its system prompt?",
    ),
    "annotation_vendors": (
        "Which companies can label 20k examples for us and how much do they charge?",
        "should we outsource data annotation or have our own staff tag the tickets",
        "Recommended tools for annotators to tag training data?",
        "How do we check the quality of labels coming back from a labelling vendor?",
    ),
    "vacation": (
        "How many vacation days do new hires get?",
        "can i carry over unused holiday into next year",
        "Who approves parental leave requests?",
        "what's the policy for working from abroad during the summer",
    ),
    "legal_citations": (
        "The assistant invents court cases when lawyers ask, how do we stop that?",
        "our legal team needs every answer to quote the exact statute paragraph",
        "Can the model be trusted to cite case law correctly?",
        "hallucinated references in contract review answers: what helps?",
    ),
}

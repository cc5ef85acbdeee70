"""Google Cloud Speech-to-Text, Amazon Transcribe and Azure Speech through their official SDKs.

They are optional extras: `pip install -e ".[cloud-speech]"` (Google, Azure) and `".[aws-speech]"`
(boto3, in its own venv: it conflicts with chromadb's python-dateutil pin). Each adapter checks its package and
its credentials first and raises `SpeechEngineError` naming what is missing, before any audio leaves
the machine. Pass `client=` to use a client you built (tests pass stubbed or replayed ones).
"""

from __future__ import annotations

import io
import json
import os
import time
import uuid

from .transcript import Segment, Transcript
from .whisper_local import SpeechEngineError

EXTRA = 'pip install -e ".[cloud-speech]"'
AWS_EXTRA = ('pip install -e ".[aws-speech]" in a separate virtual environment (boto3 pins python-dateutil '
             "below 3, which conflicts with chromadb's dependencies in the course venv)")
GOOGLE_SYNC_LIMIT_S = 60   # recognize() takes at most one minute; longer audio needs a batch job


def _need(module: str, package: str, service: str, extra: str = EXTRA):
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise SpeechEngineError(f"{service} needs the `{package}` package: {extra}.") from None


def _flac_bytes(audio) -> bytes:
    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, audio.samples, audio.sample_rate, format="FLAC")
    return buf.getvalue()


# ---- Google Cloud Speech-to-Text (v1 recognize) -------------------------------------------------

def transcribe_google(audio, *, language: str | None = None, model: str | None = None, client=None) -> Transcript:
    speech = _need("google.cloud.speech", "google-cloud-speech", "Google Cloud Speech-to-Text")
    if client is None:
        if not os.environ.get("GOOGLE_APPLICATION_CREDENTIALS"):
            raise SpeechEngineError("Google Cloud Speech-to-Text needs credentials: set GOOGLE_APPLICATION_CREDENTIALS "
                                    "to a service-account JSON file (or run `gcloud auth application-default login`).")
        client = speech.SpeechClient()
    if audio.seconds > GOOGLE_SYNC_LIMIT_S:
        raise SpeechEngineError(f"Google's synchronous recognize takes at most {GOOGLE_SYNC_LIMIT_S} s of audio; this "
                                f"is {audio.seconds:.0f} s. Split it, or use a local engine.")
    config = speech.RecognitionConfig(
        encoding=speech.RecognitionConfig.AudioEncoding.FLAC, sample_rate_hertz=audio.sample_rate,
        language_code=language or "en-US", enable_automatic_punctuation=True, enable_word_time_offsets=True,
        model=model or "latest_short")
    t0 = time.perf_counter()
    response = client.recognize(config=config, audio=speech.RecognitionAudio(content=_flac_bytes(audio)))
    wall = time.perf_counter() - t0
    segments, start = [], 0.0
    for result in response.results:
        if not result.alternatives:
            continue
        alt = result.alternatives[0]
        end = result.result_end_time.total_seconds() if result.result_end_time else audio.seconds
        if alt.words:
            start = alt.words[0].start_time.total_seconds()
        segments.append(Segment(round(start, 2), round(end, 2), alt.transcript.strip()))
        start = end
    return Transcript(text=" ".join(s.text for s in segments), segments=segments, language=language or "en-US",
                      audio_seconds=audio.seconds, wall_seconds=wall, engine="google", model=model or "latest_short")


# ---- Amazon Transcribe (batch job: S3 in, S3 out) -----------------------------------------------

def _aws_clients(region):
    boto3 = _need("boto3", "boto3", "Amazon Transcribe", AWS_EXTRA)
    session = boto3.session.Session(region_name=region)
    if session.get_credentials() is None:
        raise SpeechEngineError("Amazon Transcribe needs AWS credentials: set AWS_ACCESS_KEY_ID and "
                                "AWS_SECRET_ACCESS_KEY (or AWS_PROFILE), and AWS_DEFAULT_REGION.")
    return session.client("transcribe"), session.client("s3")


def transcribe_amazon(audio, *, language: str | None = None, bucket: str | None = None, clients=None,
                      poll_seconds: float = 2.0, timeout: float = 600.0) -> Transcript:
    """Upload to S3 `bucket` (or TRANSCRIBE_BUCKET), run a Transcribe job, read its JSON back from S3."""
    bucket = bucket or os.environ.get("TRANSCRIBE_BUCKET")
    if not bucket:
        raise SpeechEngineError("Amazon Transcribe reads audio from S3: set TRANSCRIBE_BUCKET to a bucket you own "
                                "(or pass bucket=).")
    transcribe, s3 = clients or _aws_clients(os.environ.get("AWS_DEFAULT_REGION"))
    job = f"llmcourse-{uuid.uuid4().hex[:12]}"
    key = f"llmcourse/{job}.flac"
    t0 = time.perf_counter()
    s3.put_object(Bucket=bucket, Key=key, Body=_flac_bytes(audio))
    transcribe.start_transcription_job(
        TranscriptionJobName=job, Media={"MediaFileUri": f"s3://{bucket}/{key}"}, MediaFormat="flac",
        LanguageCode=language or "en-US", OutputBucketName=bucket, OutputKey=f"llmcourse/{job}.json")
    while True:
        status = transcribe.get_transcription_job(TranscriptionJobName=job)["TranscriptionJob"]
        state = status["TranscriptionJobStatus"]
        if state == "COMPLETED":
            break
        if state == "FAILED":
            raise SpeechEngineError(f"Amazon Transcribe job {job} failed: {status.get('FailureReason', 'no reason given')}")
        if time.perf_counter() - t0 > timeout:
            raise SpeechEngineError(f"Amazon Transcribe job {job} did not finish in {timeout:.0f} s; check the AWS console.")
        time.sleep(poll_seconds)
    body = s3.get_object(Bucket=bucket, Key=f"llmcourse/{job}.json")["Body"].read()
    wall = time.perf_counter() - t0
    results = json.loads(body)["results"]
    text = " ".join(t["transcript"] for t in results["transcripts"]).strip()
    segments = [Segment(float(s["start_time"]), float(s["end_time"]), s["alternatives"][0]["transcript"].strip())
                for s in results.get("audio_segments", [])] or [Segment(0.0, round(audio.seconds, 2), text)]
    return Transcript(text=text, segments=segments, language=language or "en-US", audio_seconds=audio.seconds,
                      wall_seconds=wall, engine="amazon", model="transcribe-batch")


# ---- Azure Speech (continuous recognition over the SDK's own connection) -----------------------

def azure_config():
    """An `azure.cognitiveservices.speech.SpeechConfig` from AZURE_SPEECH_KEY and AZURE_SPEECH_REGION."""
    sdk = _need("azure.cognitiveservices.speech", "azure-cognitiveservices-speech", "Azure Speech")
    key, region = os.environ.get("AZURE_SPEECH_KEY"), os.environ.get("AZURE_SPEECH_REGION")
    missing = [n for n, v in (("AZURE_SPEECH_KEY", key), ("AZURE_SPEECH_REGION", region)) if not v]
    if missing:
        raise SpeechEngineError(f"Azure Speech needs {' and '.join(missing)}: copy the key and region from your Speech "
                                "resource's 'Keys and Endpoint' page in the Azure portal into .env.")
    return sdk, sdk.SpeechConfig(subscription=key, region=region)


def transcribe_azure(audio, *, language: str | None = None, timeout: float = 600.0) -> Transcript:
    import tempfile

    sdk, config = azure_config()
    config.speech_recognition_language = language or "en-US"
    from .audio import write_wav

    with tempfile.TemporaryDirectory() as tmp:
        wav = write_wav(os.path.join(tmp, "audio.wav"), audio.samples, audio.sample_rate)
        recognizer = sdk.SpeechRecognizer(speech_config=config, audio_config=sdk.audio.AudioConfig(filename=str(wav)))
        segments, done, errors = [], [], []

        def on_text(evt):
            r = evt.result
            if r.reason == sdk.ResultReason.RecognizedSpeech and r.text:
                start = r.offset / 1e7                       # 100-nanosecond ticks
                segments.append(Segment(round(start, 2), round(start + r.duration / 1e7, 2), r.text))

        def on_cancel(evt):
            if evt.cancellation_details.reason == sdk.CancellationReason.Error:
                errors.append(evt.cancellation_details.error_details)

        recognizer.recognized.connect(on_text)
        recognizer.canceled.connect(on_cancel)
        recognizer.session_stopped.connect(lambda evt: done.append(True))
        recognizer.canceled.connect(lambda evt: done.append(True))
        t0 = time.perf_counter()
        recognizer.start_continuous_recognition()
        while not done and time.perf_counter() - t0 < timeout:
            time.sleep(0.1)
        recognizer.stop_continuous_recognition()
        wall = time.perf_counter() - t0
    if errors:
        raise SpeechEngineError(f"Azure Speech refused the request: {errors[0][:200]} (check AZURE_SPEECH_KEY/REGION).")
    return Transcript(text=" ".join(s.text for s in segments), segments=segments, language=config.speech_recognition_language,
                      audio_seconds=audio.seconds, wall_seconds=wall, engine="azure", model="azure-speech")

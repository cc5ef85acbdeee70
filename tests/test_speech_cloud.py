"""Speech engines that need the network, with their HTTP replayed or their SDK's own stubbing:
OpenAI (official SDK over a mock transport), Google (official SDK's REST transport against a local
replay server), Amazon (botocore's Stubber, where boto3 is installed: it is not in the course venv),
Azure (credential checks). Every missing package or credential gets a message that names it."""

import base64
import http.server
import io
import json
import sys
import threading
from pathlib import Path

import httpx2
import numpy as np
import pytest
import soundfile as sf

from llmcourse.errors import KeyProblem
from llmcourse.speech import SpeechEngineError, speak, transcribe
from llmcourse.speech import cloud

from http_replay import Replay

OPENAI_KEY = "sk-proj-" + "S" * 40
TEXT = "Please call me back at extension 4417 before Friday."


@pytest.fixture(scope="module")
def clip():
    return speak(TEXT).path


def openai_with(replay):
    import openai

    return openai.OpenAI(api_key=OPENAI_KEY, max_retries=0,
                         http_client=httpx2.Client(transport=httpx2.MockTransport(replay.handler)))


def test_openai_transcription_sends_the_wav_and_reads_the_text(clip):
    rp = Replay((200, {"text": TEXT, "usage": {"type": "duration", "seconds": 4}}))
    t = transcribe(clip, engine="openai", client=openai_with(rp))
    req = rp.requests[0]
    assert req.url.path == "/v1/audio/transcriptions" and req.headers["authorization"] == f"Bearer {OPENAI_KEY}"
    body = req.content
    assert b'name="model"\r\n\r\ngpt-4o-mini-transcribe' in body and b"RIFF" in body and b'filename="audio.wav"' in body
    assert t.text == TEXT and t.engine == "openai" and t.segments[0].end == pytest.approx(t.audio_seconds, abs=0.01)


def test_openai_whisper_1_returns_timed_segments(clip):
    verbose = {"text": TEXT, "language": "english", "duration": 3.9, "task": "transcribe",
               "segments": [{"id": 0, "seek": 0, "start": 0.0, "end": 1.8, "text": " Please call me back",
                             "tokens": [], "temperature": 0.0, "avg_logprob": -0.2, "compression_ratio": 1.0,
                             "no_speech_prob": 0.01},
                            {"id": 1, "seek": 0, "start": 1.8, "end": 3.9, "text": " at extension 4417 before Friday.",
                             "tokens": [], "temperature": 0.0, "avg_logprob": -0.2, "compression_ratio": 1.0,
                             "no_speech_prob": 0.01}]}
    rp = Replay((200, verbose))
    t = transcribe(clip, engine="openai", model="whisper-1", client=openai_with(rp))
    assert b"verbose_json" in rp.requests[0].content
    assert [(s.start, s.end) for s in t.segments] == [(0.0, 1.8), (1.8, 3.9)] and t.language == "english"


def test_openai_tts_writes_the_wav_it_gets_back(tmp_path):
    buf = io.BytesIO()
    sf.write(buf, np.zeros(24000 * 2, np.float32), 24000, format="WAV", subtype="PCM_16")
    rp = Replay()
    rp.answers.append((200, ""))
    rp.handler = lambda request, _rp=rp: (_rp.requests.append(request),
                                           httpx2.Response(200, content=buf.getvalue(),
                                                           headers={"content-type": "audio/wav"}))[1]
    s = speak("Hello there.", engine="openai", client=openai_with(rp), path=tmp_path / "hi.wav")
    sent = json.loads(rp.requests[0].content)
    assert rp.requests[0].url.path == "/v1/audio/speech"
    assert sent == {"model": "gpt-4o-mini-tts", "voice": "alloy", "input": "Hello there.", "response_format": "wav",
                    "speed": 1.0}
    assert s.seconds == pytest.approx(2.0) and s.engine == "openai" and s.path.read_bytes() == buf.getvalue()


def test_openai_without_a_key_names_the_variable(clip):
    with pytest.raises(KeyProblem, match="OPENAI_API_KEY"):
        transcribe(clip, engine="openai")


# ---- Google: the official SDK, REST transport, against a local server that replays the API's JSON ----

class GoogleReplay(http.server.BaseHTTPRequestHandler):
    requests: list = []
    answer = {"results": [{"alternatives": [{"transcript": TEXT, "confidence": 0.93,
                                             "words": [{"word": "Please", "startTime": "0.300s", "endTime": "0.600s"}]}],
                           "resultEndTime": "3.900s", "languageCode": "en-us"}], "totalBilledTime": "4s"}

    def do_POST(self):  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["content-length"]))
        GoogleReplay.requests.append((self.path, json.loads(body)))
        data = json.dumps(self.answer).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def google_client():
    pytest.importorskip("google.cloud.speech", reason="google-cloud-speech is in the cloud-speech extra")
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import speech
    from google.cloud.speech_v1.services.speech.transports import SpeechRestTransport

    server = http.server.HTTPServer(("127.0.0.1", 0), GoogleReplay)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    transport = SpeechRestTransport(host=f"127.0.0.1:{server.server_port}", url_scheme="http",
                                    credentials=AnonymousCredentials())
    GoogleReplay.requests = []
    yield speech.SpeechClient(transport=transport)
    server.shutdown()


def test_google_sends_flac_with_the_config_and_reads_timed_results(clip, google_client):
    t = transcribe(clip, engine="google", client=google_client)
    path, body = GoogleReplay.requests[0]
    from google.cloud import speech

    assert path.split("?")[0] == "/v1/speech:recognize"
    flac = int(speech.RecognitionConfig.AudioEncoding.FLAC)  # the SDK sends enums as numbers
    assert body["config"]["languageCode"] == "en-US" and body["config"]["encoding"] == flac
    assert body["config"]["sampleRateHertz"] == 16000 and body["config"]["enableWordTimeOffsets"] is True
    sent, rate = sf.read(io.BytesIO(base64.b64decode(body["audio"]["content"])))
    assert rate == 16000 and len(sent) / rate == pytest.approx(t.audio_seconds, abs=0.01)
    assert t.text == TEXT and (t.segments[0].start, t.segments[0].end) == (0.3, 3.9) and t.engine == "google"


def test_google_over_a_minute_is_refused_before_sending(google_client, tmp_path):
    long = tmp_path / "long.wav"
    sf.write(str(long), np.random.default_rng(0).normal(0, 0.1, 16000 * 61).astype(np.float32), 16000)
    with pytest.raises(SpeechEngineError, match="at most 60 s"):
        transcribe(long, engine="google", client=google_client)
    assert GoogleReplay.requests == []


def test_google_without_credentials_says_which_variable(clip, monkeypatch):
    pytest.importorskip("google.cloud.speech")
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    with pytest.raises(SpeechEngineError, match="GOOGLE_APPLICATION_CREDENTIALS"):
        transcribe(clip, engine="google")


# ---- Missing packages: what a student without the extra sees ----

@pytest.mark.parametrize("engine,package,extra", [("google", "google-cloud-speech", "cloud-speech"),
                                                  ("amazon", "boto3", "aws-speech"),
                                                  ("azure", "azure-cognitiveservices-speech", "cloud-speech")])
def test_missing_sdk_names_the_package_and_the_extra(clip, monkeypatch, engine, package, extra):
    monkeypatch.setenv("TRANSCRIBE_BUCKET", "my-bucket")
    for name in ("google.cloud.speech", "boto3", "azure.cognitiveservices.speech"):
        monkeypatch.setitem(sys.modules, name, None)  # import fails as if not installed
    with pytest.raises(SpeechEngineError, match=f"needs the `{package}` package: pip install -e \".\\[{extra}\\]\""):
        transcribe(clip, engine=engine)


# ---- Amazon Transcribe ----

def test_amazon_without_a_bucket_says_so(clip, monkeypatch):
    monkeypatch.delenv("TRANSCRIBE_BUCKET", raising=False)
    with pytest.raises(SpeechEngineError, match="set TRANSCRIBE_BUCKET"):
        transcribe(clip, engine="amazon")


def test_amazon_job_through_botocore_stubber(clip, monkeypatch):
    """Skipped in the course venv (boto3's python-dateutil pin conflicts with chromadb); runs where
    boto3 is installed, e.g. `pip install -e ".[aws-speech]"` in a separate venv. Checked 2026-12-02 in a venv with boto3 1.44.8."""
    boto3 = pytest.importorskip("boto3", reason="boto3 is not installed in the course venv (dateutil conflict)")
    from botocore.response import StreamingBody
    from botocore.stub import ANY, Stubber

    monkeypatch.setattr(cloud.time, "sleep", lambda s: None)
    session = boto3.session.Session(aws_access_key_id="AKIATEST", aws_secret_access_key="x", region_name="us-east-1")
    tr, s3 = session.client("transcribe"), session.client("s3")
    result = json.dumps({"results": {"transcripts": [{"transcript": TEXT}],
                                     "audio_segments": [{"start_time": "0.3", "end_time": "3.9",
                                                         "alternatives": [{"transcript": TEXT}]}]}}).encode()
    with Stubber(tr) as st, Stubber(s3) as ss:
        ss.add_response("put_object", {}, {"Bucket": "b", "Key": ANY, "Body": ANY})
        st.add_response("start_transcription_job", {}, {"TranscriptionJobName": ANY, "Media": ANY,
                                                        "MediaFormat": "flac", "LanguageCode": "en-US",
                                                        "OutputBucketName": "b", "OutputKey": ANY})
        st.add_response("get_transcription_job", {"TranscriptionJob": {"TranscriptionJobStatus": "IN_PROGRESS"}},
                        {"TranscriptionJobName": ANY})
        st.add_response("get_transcription_job", {"TranscriptionJob": {"TranscriptionJobStatus": "COMPLETED"}},
                        {"TranscriptionJobName": ANY})
        ss.add_response("get_object", {"Body": StreamingBody(io.BytesIO(result), len(result))}, {"Bucket": "b", "Key": ANY})
        t = transcribe(clip, engine="amazon", client=(tr, s3), bucket="b")
    assert t.text == TEXT and t.segments[0].start == 0.3 and t.engine == "amazon"


# ---- Azure Speech ----

@pytest.mark.parametrize("have", [{}, {"AZURE_SPEECH_KEY": "k" * 32}])
def test_azure_names_each_missing_setting(clip, monkeypatch, have):
    pytest.importorskip("azure.cognitiveservices.speech")
    for name in ("AZURE_SPEECH_KEY", "AZURE_SPEECH_REGION"):
        monkeypatch.delenv(name, raising=False)
    for k, v in have.items():
        monkeypatch.setenv(k, v)
    missing = "AZURE_SPEECH_REGION" if have else "AZURE_SPEECH_KEY and AZURE_SPEECH_REGION"
    with pytest.raises(SpeechEngineError, match=f"Azure Speech needs {missing}: copy the key and region"):
        transcribe(clip, engine="azure")


def test_azure_config_carries_key_and_region(monkeypatch):
    pytest.importorskip("azure.cognitiveservices.speech")
    monkeypatch.setenv("AZURE_SPEECH_KEY", "k" * 32)
    monkeypatch.setenv("AZURE_SPEECH_REGION", "westeurope")
    sdk, config = cloud.azure_config()
    assert config.region == "westeurope" and config.subscription_key == "k" * 32

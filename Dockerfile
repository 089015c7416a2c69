# Real or RNN? on the CPU, with the shipped checkpoints.
#   docker build -t realornn .
#   docker run --rm -it -p 8000:8000 realornn            # the terminal demo until the server lands
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /srv/realornn

# torch first, from PyTorch's CPU index: PyPI's Linux wheel is a multi-GB CUDA build.
RUN pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0

# Dependencies before the code, so editing the code does not reinstall them.
COPY pyproject.toml README.md ./
COPY app/__init__.py app/__init__.py
RUN pip install . && pip uninstall -y realornn

COPY app app
COPY models models
COPY templates templates
COPY static static
RUN pip install --no-deps -e . \
    && useradd --create-home --uid 10001 realornn \
    && mkdir -p data && chown realornn data
USER realornn

ENV MODELS_DIR=/srv/realornn/models
EXPOSE 8000
CMD ["realornn", "demo"]

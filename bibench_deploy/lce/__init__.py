"""The Larq Compute Engine path: conversion and interpreter, flatbuffer reading, audit, the
numerical verdict and float-fallback finding (the sibling of `dabnn/`)."""

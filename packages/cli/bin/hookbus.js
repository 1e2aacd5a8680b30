#!/usr/bin/env node
// Committed so that npm links the `hookbus` command at install time, before the first build.
import "../dist/main.js";

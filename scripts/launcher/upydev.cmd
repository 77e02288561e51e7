@echo off
rem upydev launcher of the portable build for Windows: runs upydev.js next to this file with the Deno named by
rem UPYDEV_DENO, else the deno.exe shipped beside it (release archives), else the one on PATH.
setlocal
set "UPYDEV_RUNTIME=%UPYDEV_DENO%"
if not defined UPYDEV_RUNTIME if exist "%~dp0deno.exe" set "UPYDEV_RUNTIME=%~dp0deno.exe"
if not defined UPYDEV_RUNTIME for %%D in (deno.exe) do if not "%%~$PATH:D"=="" set "UPYDEV_RUNTIME=%%~$PATH:D"
if not defined UPYDEV_RUNTIME (
  echo upydev: Deno not found: install Deno 2.9 or later ^(https://deno.com^) or set UPYDEV_DENO to a deno binary 1>&2
  exit /b 127
)
set "DENO_NO_UPDATE_CHECK=1"
"%UPYDEV_RUNTIME%" run -A --no-config --no-lock "%~dp0upydev.js" %*
exit /b %ERRORLEVEL%

; License Manager for Windows with the desktop app: "License Manager.exe" (and the
; WebView2Loader.dll it loads) and licensectl.exe in "C:\Program Files\License
; Manager", licensectl on the system PATH, a Start menu shortcut, an entry in "Apps &
; features". Silent: license-manager-<version>-setup.exe /S, and
; "C:\Program Files\License Manager\uninstall.exe" /S.
;
; Built by scripts/windows:
;   makensis -DVERSION=0.1.0 -DAPP=<license-manager.exe> -DLOADER=<WebView2Loader.dll>
;            -DCLI=<licensectl.exe> -DOUT=<setup.exe> [-DWEBVIEW2=<runtime installer>]
;            license-manager.nsi
;
; WebView2: the app needs the Microsoft Edge WebView2 Runtime, which Windows Server
; lacks by default and an air-gapped server cannot download. Without -DWEBVIEW2 the
; installer checks for it and, when it is missing, says what to do (the standalone
; runtime, or licensectl) and installs anyway: licensectl works without it, and the
; app says the same when started. With -DWEBVIEW2=MicrosoftEdgeWebView2RuntimeInstallerX64.exe
; (Microsoft's offline "Evergreen Standalone Installer", the release matrix's
; build) the runtime is carried inside and installed silently when missing.
;
; It takes over from the command-line-only installer (licensectl.nsi) in the same
; folder. Uninstalling leaves the environments' data (the license, backups, state).

!include "common.nsh"
!define KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\LicenseManager"
!define CLI_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\LicenseManagerCli"
; The WebView2 Runtime's client id; its "pv" value is the installed version
; (Microsoft's documented check, per machine and per user).
!define WEBVIEW2_CLIENT "Microsoft\EdgeUpdate\Clients\{F3017226-FE2A-4295-8BDF-00C3A9A7E4C5}"

Name "License Manager ${VERSION}"
OutFile "${OUT}"

Page directory
Page instfiles
UninstPage uninstConfirm
UninstPage instfiles

; $R0 = the installed WebView2 Runtime's version, or "" when there is none.
Function FindWebView2
  ReadRegStr $R0 HKLM "SOFTWARE\WOW6432Node\${WEBVIEW2_CLIENT}" "pv"
  ${If} $R0 == ""
  ${OrIf} $R0 == "0.0.0.0"
    ReadRegStr $R0 HKCU "Software\${WEBVIEW2_CLIENT}" "pv"
  ${EndIf}
  ${If} $R0 == "0.0.0.0"
    StrCpy $R0 ""
  ${EndIf}
FunctionEnd

!macro WebView2Missing
  DetailPrint "The Microsoft Edge WebView2 Runtime is not installed: the desktop app cannot open until it is."
  MessageBox MB_ICONEXCLAMATION "The Microsoft Edge WebView2 Runtime is not installed on this computer, and the License Manager window needs it (Windows Server does not include it).$\r$\n$\r$\nInstall Microsoft's WebView2 Runtime: on a server without internet access, copy the $\"Evergreen Standalone Installer$\" (x64) onto it and run it.$\r$\n$\r$\nUntil then, licensectl does everything from a command prompt (licensectl --help). Setup goes on." /SD IDOK
!macroend

Section "License Manager"
  ; One installer owns the folder: the .msi's copy is updated with an .msi.
  ReadRegDWORD $1 HKLM "Software\License Manager" "StartMenuShortcut"
  ${If} $1 == 1
    MessageBox MB_ICONSTOP "License Manager is installed from its .msi package: update it with the .msi (msiexec /i), or uninstall that first." /SD IDOK
    Abort
  ${EndIf}
  Call FindWebView2
  ${If} $R0 == ""
!ifdef WEBVIEW2
    DetailPrint "Installing the Microsoft Edge WebView2 Runtime (offline)"
    InitPluginsDir
    File "/oname=$PLUGINSDIR\webview2-runtime.exe" "${WEBVIEW2}"
    ExecWait '"$PLUGINSDIR\webview2-runtime.exe" /silent /install' $1
    Call FindWebView2
    ${If} $R0 == ""
      !insertmacro WebView2Missing
    ${EndIf}
!else
    !insertmacro WebView2Missing
!endif
  ${Else}
    DetailPrint "Microsoft Edge WebView2 Runtime $R0"
  ${EndIf}

  SetOutPath "$INSTDIR"
  File "/oname=License Manager.exe" "${APP}"
  File "/oname=WebView2Loader.dll" "${LOADER}"
  File "/oname=licensectl.exe" "${CLI}"
  WriteUninstaller "$INSTDIR\uninstall.exe"
  !insertmacro InstallTasks
  CreateShortcut "$SMPROGRAMS\License Manager.lnk" "$INSTDIR\License Manager.exe"
  !insertmacro ProtectFolders
  !insertmacro AddInstallDirToPath
  ; The command-line-only installer's licensectl is now this one's.
  Delete "$INSTDIR\uninstall-licensectl.exe"
  DeleteRegKey HKLM "${CLI_KEY}"
  !insertmacro AppsAndFeatures "${KEY}" "License Manager" "uninstall.exe"
  WriteRegStr HKLM "${KEY}" "DisplayIcon" '"$INSTDIR\License Manager.exe"'
SectionEnd

Section "Uninstall"
  !insertmacro RemoveInstallDirFromPath
  Delete "$INSTDIR\License Manager.exe"
  Delete "$INSTDIR\WebView2Loader.dll"
  Delete "$INSTDIR\licensectl.exe"
  Delete "$INSTDIR\uninstall.exe"
  Delete "$SMPROGRAMS\License Manager.lnk"
  !insertmacro RemoveTasks
  RMDir "$INSTDIR"
  DeleteRegKey HKLM "${KEY}"
SectionEnd

; License Manager's command line for Windows Server (Core included): licensectl.exe
; in "C:\Program Files\License Manager", on the system PATH, with an entry in
; "Apps & features". No GUI, no WebView2. Silent: licensectl-setup.exe /S, and
; "C:\Program Files\License Manager\uninstall-licensectl.exe" /S.
;
; Built by scripts/windows --installers:
;   makensis -DVERSION=0.1.0 -DEXE=<licensectl.exe> -DOUT=<setup.exe> licensectl.nsi
; Uninstalling removes the program and its PATH entry; the environments' data (the
; license, backups, state) is the administrator's and stays.

Target amd64-unicode
SetCompressor /SOLID lzma
!include "LogicLib.nsh"
!include "WordFunc.nsh"
!include "WinMessages.nsh"
!include "x64.nsh"

!define KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\LicenseManagerCli"
!define ENVKEY "SYSTEM\CurrentControlSet\Control\Session Manager\Environment"

Name "License Manager command line ${VERSION}"
OutFile "${OUT}"
InstallDir "$PROGRAMFILES64\License Manager"
RequestExecutionLevel admin
ShowInstDetails show

Page directory
Page instfiles
UninstPage uninstConfirm
UninstPage instfiles

Function .onInit
  ${IfNot} ${RunningX64}
    MessageBox MB_ICONSTOP "License Manager needs 64-bit Windows." /SD IDOK
    Abort
  ${EndIf}
  SetRegView 64
FunctionEnd

Function un.onInit
  SetRegView 64
FunctionEnd

Section "licensectl"
  SetOutPath "$INSTDIR"
  File "/oname=licensectl.exe" "${EXE}"
  WriteUninstaller "$INSTDIR\uninstall-licensectl.exe"
  ; The daily check and the monthly audit for Task Scheduler, shipped disabled
  ; (makensis reads them beside this script):
  ; schtasks /create /xml "$INSTDIR\tasks\license-manager-check.xml" /tn ...
  SetOutPath "$INSTDIR\tasks"
  File "license-manager-check.xml"
  File "license-manager-audit.xml"
  SetOutPath "$INSTDIR"
  ; On the system PATH once: any earlier entry for this folder is taken out first.
  ReadRegStr $0 HKLM "${ENVKEY}" "Path"
  ${WordReplace} "$0" ";$INSTDIR" "" "+" $0
  WriteRegExpandStr HKLM "${ENVKEY}" "Path" "$0;$INSTDIR"
  SendMessage ${HWND_BROADCAST} ${WM_SETTINGCHANGE} 0 "STR:Environment" /TIMEOUT=2000
  WriteRegStr HKLM "${KEY}" "DisplayName" "License Manager command line"
  WriteRegStr HKLM "${KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKLM "${KEY}" "Publisher" "License Manager"
  WriteRegStr HKLM "${KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKLM "${KEY}" "UninstallString" '"$INSTDIR\uninstall-licensectl.exe"'
  WriteRegStr HKLM "${KEY}" "QuietUninstallString" '"$INSTDIR\uninstall-licensectl.exe" /S'
  WriteRegDWORD HKLM "${KEY}" "NoModify" 1
  WriteRegDWORD HKLM "${KEY}" "NoRepair" 1
SectionEnd

Section "Uninstall"
  Delete "$INSTDIR\licensectl.exe"
  Delete "$INSTDIR\uninstall-licensectl.exe"
  Delete "$INSTDIR\tasks\license-manager-check.xml"
  Delete "$INSTDIR\tasks\license-manager-audit.xml"
  RMDir "$INSTDIR\tasks"
  ; Only if empty: the desktop app's installer may share the folder.
  RMDir "$INSTDIR"
  ReadRegStr $0 HKLM "${ENVKEY}" "Path"
  ${un.WordReplace} "$0" ";$INSTDIR" "" "+" $0
  WriteRegExpandStr HKLM "${ENVKEY}" "Path" "$0"
  SendMessage ${HWND_BROADCAST} ${WM_SETTINGCHANGE} 0 "STR:Environment" /TIMEOUT=2000
  DeleteRegKey HKLM "${KEY}"
SectionEnd

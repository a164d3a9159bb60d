; What both NSIS installers (licensectl.nsi, license-manager.nsi) do alike: 64-bit
; Windows only, the 64-bit registry view, one "C:\Program Files\License Manager", and
; that folder on the system PATH exactly once.

Target amd64-unicode
SetCompressor /SOLID lzma
!include "LogicLib.nsh"
!include "WordFunc.nsh"
!include "WinMessages.nsh"
!include "x64.nsh"

!define ENVKEY "SYSTEM\CurrentControlSet\Control\Session Manager\Environment"

InstallDir "$PROGRAMFILES64\License Manager"
RequestExecutionLevel admin
ShowInstDetails show

Function .onInit
  ${IfNot} ${RunningX64}
    MessageBox MB_ICONSTOP "License Manager needs 64-bit Windows." /SD IDOK
    Abort
  ${EndIf}
  SetRegView 64
  SetShellVarContext all
FunctionEnd

Function un.onInit
  SetRegView 64
  SetShellVarContext all
FunctionEnd

; On the system PATH once: any earlier entry for this folder is taken out first.
; No empty entries either (another uninstaller may have left a ";;" or a trailing
; ";"): they mean nothing to Windows, but Wine's cmd stops searching at one.
!macro AddInstallDirToPath
  ReadRegStr $0 HKLM "${ENVKEY}" "Path"
  ${WordReplace} "$0" ";$INSTDIR\" "" "+" $0
  ${WordReplace} "$0" ";$INSTDIR" "" "+" $0
  ${WordReplace} "$0" ";;" ";" "+" $0
  ${WordReplace} "$0" ";;" ";" "+" $0
  StrCpy $1 $0 1 -1
  ${If} $1 == ";"
    StrCpy $0 $0 -1
  ${EndIf}
  ${If} $0 == ""
    WriteRegExpandStr HKLM "${ENVKEY}" "Path" "$INSTDIR"
  ${Else}
    WriteRegExpandStr HKLM "${ENVKEY}" "Path" "$0;$INSTDIR"
  ${EndIf}
  SendMessage ${HWND_BROADCAST} ${WM_SETTINGCHANGE} 0 "STR:Environment" /TIMEOUT=2000
!macroend

!macro RemoveInstallDirFromPath
  ReadRegStr $0 HKLM "${ENVKEY}" "Path"
  ${un.WordReplace} "$0" ";$INSTDIR" "" "+" $0
  WriteRegExpandStr HKLM "${ENVKEY}" "Path" "$0"
  SendMessage ${HWND_BROADCAST} ${WM_SETTINGCHANGE} 0 "STR:Environment" /TIMEOUT=2000
!macroend

; The scheduled jobs' XML (the daily check, the monthly audit, the daily renewal),
; shipped disabled;
; makensis reads them beside the scripts. Register with
; schtasks /create /xml "$INSTDIR\tasks\license-manager-check.xml" /tn ...
!macro InstallTasks
  SetOutPath "$INSTDIR\tasks"
  File "license-manager-check.xml"
  File "license-manager-audit.xml"
  File "license-manager-renew.xml"
  SetOutPath "$INSTDIR"
!macroend

!macro RemoveTasks
  Delete "$INSTDIR\tasks\license-manager-check.xml"
  Delete "$INSTDIR\tasks\license-manager-audit.xml"
  Delete "$INSTDIR\tasks\license-manager-renew.xml"
  RMDir "$INSTDIR\tasks"
!macroend

; An entry in "Apps & features" under `key`, uninstalled by `uninstaller`.
!macro AppsAndFeatures key name uninstaller
  WriteRegStr HKLM "${key}" "DisplayName" "${name}"
  WriteRegStr HKLM "${key}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKLM "${key}" "Publisher" "License Manager"
  WriteRegStr HKLM "${key}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKLM "${key}" "UninstallString" '"$INSTDIR\${uninstaller}"'
  WriteRegStr HKLM "${key}" "QuietUninstallString" '"$INSTDIR\${uninstaller}" /S'
  WriteRegDWORD HKLM "${key}" "NoModify" 1
  WriteRegDWORD HKLM "${key}" "NoRepair" 1
!macroend

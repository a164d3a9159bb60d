; What both NSIS installers (licensectl.nsi, license-manager.nsi) do alike: 64-bit
; Windows only, the 64-bit registry view, one "C:\Program Files\License Manager", and
; that folder on the system PATH exactly once.

Target amd64-unicode
SetCompressor /SOLID lzma
!include "LogicLib.nsh"
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

; On the system PATH once, through the installed licensectl.exe: it reads and
; writes the value whole through the registry API. NSIS itself reads at most 1,024
; characters, and a longer PATH read as empty was once written back as our folder
; alone. Entries are matched whole ("…\License Manager Tools" stays), empty ones go
; (Wine's cmd stops searching at one), and a PATH that cannot be read is left as it
; is. A failure is said, never fatal: the program works without being on the PATH.
!macro SystemPath action
  nsExec::ExecToLog '"$INSTDIR\licensectl.exe" system-path ${action} "$INSTDIR"'
  Pop $0
  ${If} $0 != 0
    DetailPrint "The system PATH was left as it was (licensectl system-path ${action}: $0); add or remove $INSTDIR by hand"
  ${EndIf}
!macroend

; The machine-wide folder (%ProgramData%\License Manager: the scheduled tasks'
; configuration and state) and the install folder belong to the administrators:
; owned by Administrators, a protected DACL (Administrators and SYSTEM change,
; Users read). Otherwise a standard user could plant what a task runs as SYSTEM.
!macro ProtectFolders
  nsExec::ExecToLog '"$INSTDIR\licensectl.exe" system-folder'
  Pop $0
  ${If} $0 != 0
    DetailPrint "%ProgramData%\License Manager could not be given to the administrators (licensectl system-folder: $0)"
  ${EndIf}
  nsExec::ExecToLog '"$INSTDIR\licensectl.exe" system-folder "$INSTDIR"'
  Pop $0
  ${If} $0 != 0
    DetailPrint "$INSTDIR could not be given to the administrators (licensectl system-folder: $0)"
  ${EndIf}
!macroend

!macro AddInstallDirToPath
  !insertmacro SystemPath add
!macroend

; Before licensectl.exe is deleted: it is what takes the folder off the PATH.
!macro RemoveInstallDirFromPath
  !insertmacro SystemPath remove
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
